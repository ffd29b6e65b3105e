"""Building guest-example components from source, once per test session.

Each `guest-examples/<lang>/Makefile` builds `build/guests/<lang>/<name>.wasm`
for make target `<name>`; make itself decides whether a rebuild is needed.
"""

from __future__ import annotations

import gzip
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


def built_v0_2_guest(name: str) -> Path:
    """Build (if stale) and return the 0.2 test guest `name` (json_filter, echo).

    tests/fixtures/guest_v0_2: a hand-written 0.2.0 guest that tests the
    host's 0.2 adapters before the SDKs move to 0.2.0.
    """
    require("guests", f"builds the 0.2 test guest {name}")
    proc = subprocess.run(
        ["make", "-s", "-C", str(ROOT / "tests" / "fixtures" / "guest_v0_2")],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        if "install" in output.lower() and "not found" in output.lower():
            missing(output)
        raise AssertionError(f"building the 0.2 test guest failed:\n{output}")
    path = ROOT / "build" / "test-components" / "v0_2" / f"{name}.wasm"
    assert path.is_file(), f"make built the 0.2 test guest but {path} is missing"
    return path


V0_1 = ROOT / "tests" / "fixtures" / "v0_1"
"""The committed 0.1.0 builds of the examples (see its README)."""


def v0_1_fixture(name: str, out: Path) -> Path:
    """The committed 0.1 component `name` (e.g. ``json_filter.rust``), gunzipped into `out`."""
    plain = V0_1 / f"{name}.wasm"
    if plain.is_file():
        return plain
    packed = V0_1 / f"{name}.wasm.gz"
    target = out / f"{name}.wasm"
    if not target.is_file():
        target.write_bytes(gzip.decompress(packed.read_bytes()))
    return target
