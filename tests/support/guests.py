"""Building guest-example components from source, once per test session.

Each `guest-examples/<lang>/Makefile` builds `build/guests/<lang>/<name>.wasm`
for make target `<name>`; make itself decides whether a rebuild is needed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.markers import require
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "guests"


def built_guest(lang: str, name: str) -> Path:
    """Build (if stale) and return the component for guest `name` in `lang`."""
    require("guests", f"builds guest {lang}/{name}")
    proc = subprocess.run(
        ["make", "-s", "-C", str(ROOT / "guest-examples" / lang), name],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        if "install" in output.lower() and "not found" in output.lower():
            missing(output)
        raise AssertionError(f"building {lang}/{name} failed:\n{output}")
    path = BUILD / lang / f"{name}.wasm"
    assert path.is_file(), f"make built {lang}/{name} but {path} is missing"
    return path
