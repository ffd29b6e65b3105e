"""Building test components with componentize-py, once per source hash.

A componentize-py build takes ~10 s and ~400 MB, so each test component is
cached under build/, keyed by its sources, its WIT and the tool's version;
older builds of the same component, and anything cached beside them under
the same name, are removed (~18 MB each).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from support.markers import require
from support.tools import require_tool


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def componentize_cached(*, name: str, source: Path, wit: Path, world: str, cache: Path) -> Path:
    """Build `source/app.py` for `world` of `wit` into `cache/<name>-<hash>.wasm` unless built."""
    require("guests", f"builds test component {name} with componentize-py")
    tool = require_tool("componentize-py", "pip install componentize-py==0.25.1")
    digest = hashlib.sha256()
    for root in (source, wit):
        for path in _files(root):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    digest.update(subprocess.run([tool, "--version"], capture_output=True, check=False).stdout)
    out = cache / f"{name}-{digest.hexdigest()[:16]}.wasm"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    cmd = [tool, "-d", str(wit), "-w", world, "componentize", "app", "-p", str(source)]
    proc = subprocess.run([*cmd, "-o", str(tmp)], capture_output=True, text=True, check=False)
    shutil.rmtree(source / "__pycache__", ignore_errors=True)
    if proc.returncode != 0:
        raise AssertionError(f"componentize-py failed for {name}:\n{proc.stdout}{proc.stderr}")
    os.replace(tmp, out)
    for stale in cache.glob(f"{name}-*"):
        if not stale.name.startswith(out.stem):  # older builds and their compiled artifacts
            stale.unlink(missing_ok=True)
    return out
