"""Every `dataflare ...` command the READMEs show parses with the real CLI.

A documented flag the parser does not know (`check -p` once) fails a new user
at the first command they copy; this catches the whole class without running
any command.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from dataflare.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "guest-examples").glob("*/README.md"))]
_FENCE = re.compile(r"^```(?:sh|bash|console|shell)?\s*$")


def _commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        block = shell = False
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            if line.lstrip().startswith("```"):
                block = not block
                shell = block and bool(_FENCE.match(line.strip()))
                continue
            text = line.strip().removeprefix("$ ")
            if shell and text.startswith("dataflare "):
                command = text.split(" #", 1)[0].split(" |", 1)[0].split(" >", 1)[0]
                found.append((f"{doc.relative_to(ROOT)}:{number}", command))
    return found


COMMANDS = _commands()


def test_the_readmes_show_commands():
    assert len(COMMANDS) >= 5, COMMANDS


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_parses(where, command, capsys):
    argv = shlex.split(command)[1:]
    if "--help" in argv or "-h" in argv or "--version" in argv:
        return  # these print and exit by design
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: `{command}` does not parse: {capsys.readouterr().err.strip()}")
        raise AssertionError from exc
