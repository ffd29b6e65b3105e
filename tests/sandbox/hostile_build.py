"""Building the hostile guests from source (not a test module).

The componentize-py transform takes ~10 s, so it is cached under
build/test-components/, keyed by a hash of its source, our WIT and the tool;
the Rust sleepy transform likewise, keyed by its source, the SDK and our WIT.
"""

from __future__ import annotations

from pathlib import Path

from support.componentize import componentize_cached
from support.rust_component import rust_component_cached

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


def sleepy_transform() -> Path:
    """The Rust sleepy transform (wasm32-wasi + the WASI adapter), built once per source hash.

    `std::thread::sleep` there waits in WASI `poll`, as real Rust guests do.
    """
    return rust_component_cached(
        name="sleepy_transform",
        crate=SLEEPY,
        wit=SLEEPY_WIT,
        world="transform",
        cache=BUILD,
        target="wasm32-wasi",
        adapter=ADAPTER,
    )
