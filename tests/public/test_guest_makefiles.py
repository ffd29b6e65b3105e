"""The guest Makefiles refuse a goal they do not know, instead of doing nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lang", ["python", "rust", "js"])
def test_an_unknown_guest_fails_with_the_known_ones(tmp_path: Path, lang: str) -> None:
    if shutil.which("make") is None:
        missing("make")
    # A copy, beside a folder named like the guest: what made make say "Nothing to
    # be done" and exit 0 (issue 14). The copy keeps the repo's tree untouched.
    folder = tmp_path / "guest-examples" / lang
    (folder / "amount_min").mkdir(parents=True)
    shutil.copy(ROOT / "guest-examples" / lang / "Makefile", folder / "Makefile")
    proc = subprocess.run(
        ["make", "-s", "-C", str(folder), "amount_min"], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "unknown guest or target: amount_min" in proc.stderr
    assert "json_filter" in proc.stderr and "GUESTS" in proc.stderr
    assert "Nothing to be done" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("lang", ["python", "rust", "js"])
def test_known_goals_still_parse(lang: str) -> None:
    if shutil.which("make") is None:
        missing("make")
    # -n: print what would run, build nothing.
    proc = subprocess.run(
        ["make", "-n", "-s", "-C", str(ROOT / "guest-examples" / lang), "clean", "json_filter"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
