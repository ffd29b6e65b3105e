"""Building the hostile guests from source (not a test module).

The componentize-py transform takes ~10 s, so it is cached under
build/test-components/, keyed by a hash of its source, our WIT and the tool.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
WIT = ROOT / "wit"
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
BUILD = ROOT / "build" / "test-components"


def hostile_transform() -> Path:
    """The componentize-py hostile transform (see its docstring), built once per source hash."""
    tool = require_tool("componentize-py", "pip install componentize-py==0.25.1")
    source = HOSTILE / "hostile_transform"
    digest = hashlib.sha256()
    for path in [*sorted(source.glob("*.py")), *sorted(WIT.glob("*.wit"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(subprocess.run([tool, "--version"], capture_output=True, check=False).stdout)
    out = BUILD / f"hostile_transform-{digest.hexdigest()[:16]}.wasm"
    if out.is_file():
        return out
    BUILD.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    proc = subprocess.run(
        [tool, "-d", str(WIT), "-w", "transform", "componentize", "app", "-p", str(source),
         "-o", str(tmp)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise AssertionError(f"componentize-py failed:\n{proc.stdout}{proc.stderr}")
    os.replace(tmp, out)
    for stale in BUILD.glob("hostile_transform-*.wasm"):
        if stale != out:
            stale.unlink(missing_ok=True)
    return out
