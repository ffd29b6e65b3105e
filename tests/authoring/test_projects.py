"""A plugin author's whole path, for every language and kind, outside the repo.

In a temporary folder: `dataflare new` -> `dataflare build` -> `dataflare check`
with no arguments -> the generated project's own pytest run -> its pipeline. Each step runs as
a user would type it (a subprocess in the project folder); any failure shows
that step's output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.tools import missing

REPO = Path(__file__).resolve().parents[2]
LANGS = ("python", "rust", "js")
KINDS = ("filter", "transform", "aggregate", "source", "sink")
# What the project's pipeline.yaml writes from its records.jsonl: lines in build/output.jsonl
# and in build/rejects.jsonl (records the plugin failed, as dead letters).
PIPELINE_LINES = {
    "filter": (1, 2),
    "transform": (3, 2),
    "aggregate": (3, 2),
    "source": (5, 0),
    "sink": (0, 2),
}


def dataflare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`dataflare ARGS` in `cwd`, with this interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "dataflare", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str], step: str) -> None:
    assert done.returncode == 0, f"{step} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"


@pytest.mark.guests
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_new_build_check_and_the_projects_own_tests_pass(
    tmp_path: Path, lang: str, kind: str
) -> None:
    assert REPO not in tmp_path.parents, "the project must live outside the DataFlare checkout"
    name = f"my_{kind}"
    ok(dataflare("new", kind, name, "--lang", lang, cwd=tmp_path), "dataflare new")
    project = tmp_path / name
    assert (project / "dataflare.toml").is_file()

    built = dataflare("build", cwd=project)
    if built.returncode != 0 and "not found; install it with" in built.stderr:
        missing(built.stderr.strip().splitlines()[-1])
    ok(built, "dataflare build")
    assert (project / "build" / f"{name}.wasm").is_file()

    ok(dataflare("check", cwd=project), "dataflare check")
    inspected = dataflare("inspect", "--json", cwd=project)
    ok(inspected, "dataflare inspect")
    facts = json.loads(inspected.stdout)
    assert (facts["name"], facts["kind"], facts["world_version"]) == (name, kind, "0.2.0")

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    ok(tests, "the project's pytest")
    assert "2 passed" in tests.stdout, tests.stdout

    ok(dataflare("run", "pipeline.yaml", "--quiet", cwd=project), "dataflare run pipeline.yaml")
    lines = tuple(
        len(path.read_text().splitlines()) if path.exists() else 0
        for path in (project / "build" / "output.jsonl", project / "build" / "rejects.jsonl")
    )
    assert lines == PIPELINE_LINES[kind]
