"""Fixtures for the conformance tests: the broken corpus, built once per session."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.guests import ROOT
from support.markers import require
from support.tools import missing

BROKEN_SRC = Path(__file__).resolve().parent / "broken"
BROKEN_OUT = ROOT / "build" / "guests" / "broken"
EXAMPLES = 8
"""Generated examples per property check in tests: enough to find every planted bug."""


@pytest.fixture(scope="session")
def broken_corpus() -> Path:
    """Build every broken component (make decides what is stale); the output folder."""
    require("guests", "builds the broken corpus")
    proc = subprocess.run(
        ["make", "-s", "-C", str(BROKEN_SRC), "all"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        if "install it with" in output:
            missing(output)
        raise AssertionError(f"building the broken corpus failed:\n{output}")
    return BROKEN_OUT
