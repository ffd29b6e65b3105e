"""The top-level Makefile: `make setup` makes .venv, targets use it, `make bench` leaves git clean.

Each test asks `make -n` (print, do not run) in an empty folder, so nothing is
installed or measured, and the answer does not depend on whether this checkout
has a .venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.tools import missing

ROOT = Path(__file__).resolve().parents[1]
# Variables an outer `make test` or the user's shell could pass down and that change the answer.
_INHERITED = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON", "BASE_PYTHON", "RECORD")


def make(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the repo's Makefile from `folder`, without what the caller's make passes down."""
    if shutil.which("make") is None:
        missing("`make` not found; install it with: apt-get install make")
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED}
    makefile = ["-f", str(ROOT / "Makefile"), "-C", str(folder)]
    return subprocess.run(
        ["make", "--no-print-directory", *makefile, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def dry_run(folder: Path, *args: str, dry: bool = True) -> str:
    """What `make -n ARGS` would run from `folder` (`dry=False`: run it)."""
    proc = make(folder, *(["-n"] if dry else []), *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def make_venv(folder: Path) -> None:
    python = folder / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)


def test_setup_creates_the_venv_and_installs_into_it(tmp_path: Path) -> None:
    lines = dry_run(tmp_path, "setup").splitlines()
    assert any("python3 -m venv .venv" in line for line in lines), lines
    assert ".venv/bin/python -m pip install -e '.[dev,dask]'" in lines


def test_setup_keeps_an_existing_venv(tmp_path: Path) -> None:
    make_venv(tmp_path)
    out = dry_run(tmp_path, "setup")
    assert "test -x .venv/bin/python ||" in out  # venv creation is skipped when this holds
    assert ".venv/bin/python -m pip install -e '.[dev,dask]'" in out


def test_a_venv_that_cannot_be_made_is_removed_with_a_hint(tmp_path: Path) -> None:
    # Debian without python3-venv: `python3 -m venv` leaves bin/python behind, then fails.
    fake = tmp_path / "python-without-ensurepip"
    fake.write_text("#!/bin/sh\nmkdir -p .venv/bin && touch .venv/bin/python && exit 1\n")
    fake.chmod(0o755)
    proc = make(tmp_path, "setup", f"BASE_PYTHON={fake}")
    assert proc.returncode != 0
    assert "apt-get install python3-venv" in proc.stderr
    assert not (tmp_path / ".venv").exists()


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("test-fast", "-m pytest -m"),
        ("test", "-m pytest"),
        ("lint", "-m mypy"),
        ("bench", "bench/run.py"),
        ("bindings", "-m dataflare bindgen"),
    ],
)
def test_targets_run_in_the_venv_when_there_is_one(
    tmp_path: Path, target: str, command: str
) -> None:
    # Without .venv, the current python3: CI (.ci/run) installs into its own environment.
    assert f"python3 {command}" in dry_run(tmp_path, target)
    make_venv(tmp_path)
    assert f".venv/bin/python {command}" in dry_run(tmp_path, target)


def test_the_venv_tools_are_on_path(tmp_path: Path) -> None:
    # componentize-py (guest Makefiles) and `dataflare` (CLI tests) live in .venv/bin.
    out = dry_run(tmp_path, "--eval", "show-path: ; @echo $$PATH", "show-path", dry=False)
    assert out.startswith(f"{tmp_path.resolve()}/.venv/bin:"), out


def test_venv_is_git_ignored() -> None:
    lines = (ROOT / ".gitignore").read_text().splitlines()
    assert ".venv/" in lines or "/.venv/" in lines


def test_bench_writes_the_tracked_results_only_when_asked(tmp_path: Path) -> None:
    assert "--record" not in dry_run(tmp_path, "bench")
    assert "--record" not in dry_run(tmp_path, "bench", "RECORD=0")
    assert "bench/run.py --record" in dry_run(tmp_path, "bench", "RECORD=1")
    assert "bench/run.py --record" in dry_run(tmp_path, "bench-record")


def test_bench_run_writes_under_build_unless_recording() -> None:
    # A fresh process: bench/run.py puts bench/ on sys.path and imports its siblings.
    code = "import run; print(run.results_path(False)); print(run.results_path(True))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "bench",
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines() == [
        str(ROOT / "build" / "bench" / "RESULTS.md"),
        str(ROOT / "bench" / "RESULTS.md"),
    ]
