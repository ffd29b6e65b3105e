"""guest-examples/python/Makefile: what makes a guest stale, and the missing-tool message."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.guests import ROOT

GUESTS_DIR = ROOT / "guest-examples" / "python"
SDK = ROOT / "host" / "dataflare" / "sdk" / "python"


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "-C", str(GUESTS_DIR), *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("changed", "stale"),
    [
        (None, False),
        (str(ROOT / "wit" / "types.wit"), True),
        ("json_filter/app.py", True),
        (str(SDK / "dfjson.py"), True),
        (str(SDK / "guestkit.py"), True),
        ("mask_email/app.py", False),
    ],
)
def test_a_guest_is_rebuilt_only_when_its_sources_or_the_wit_change(
    guest_path: Callable[[str], Path], changed: str | None, stale: bool
) -> None:
    guest_path("json_filter")
    # `make -q` answers "up to date?" without building; -W pretends a file just changed.
    what_if = ["-W", changed] if changed else []
    assert make("-q", *what_if, "json_filter").returncode == (1 if stale else 0)


def test_missing_componentize_py_says_how_to_install_it() -> None:
    proc = make("-B", "json_filter", "COMPONENTIZE=componentize-py-that-does-not-exist")
    assert proc.returncode != 0
    assert (
        "componentize-py not found; install it with: pip install componentize-py==0.25.1"
        in proc.stderr
    )
