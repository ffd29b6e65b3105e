"""The round-trip test component and its generated bindings, built once per session.

The component is built from `tests/fixtures/roundtrip/` with componentize-py
(independent of guest-examples/) and cached under `build/bindgen/`, keyed by
a hash of its sources; the compiled artifact is cached next to it, keyed by
the wasmtime version too, because compiling an 18 MB component takes seconds.

`world` is parametrized over the two codec paths, the C extension ("native")
and Python ("python"), chosen by the world class's `native` argument, so
every round-trip test runs on both.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import wasmtime
from dataflare.abi import c_ext
from dataflare.bindgen import generate
from support.componentize import componentize_cached
from support.tools import missing
from wasmtime import component as wc

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "roundtrip"
CACHE = ROOT / "build" / "bindgen"
WORLD = "roundtrip"


def build_roundtrip_component() -> Path:
    """Build (or reuse) the round-trip component; its path."""
    return componentize_cached(
        name="roundtrip", source=FIXTURE / "guest", wit=FIXTURE / "wit", world=WORLD, cache=CACHE
    )


@pytest.fixture(scope="session")
def engine() -> wasmtime.Engine:
    """One engine for the whole session (compiled artifacts are engine-specific)."""
    return wasmtime.Engine()


@pytest.fixture(scope="session")
def roundtrip_component(engine: wasmtime.Engine) -> wc.Component:
    """The compiled round-trip component (deserialized from cache when possible)."""
    wasm = build_roundtrip_component()
    compiled = wasm.with_name(f"{wasm.stem}-wasmtime{version('wasmtime')}.cwasm")
    if compiled.is_file():
        try:
            return wc.Component.deserialize_file(engine, str(compiled))
        except wasmtime.WasmtimeError:
            compiled.unlink()
    component = wc.Component.from_file(engine, wasm)
    compiled.write_bytes(component.serialize())
    return component


@pytest.fixture(scope="session")
def rtbind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated bindings for the fixture WIT, imported as package `rtbind`."""
    root = tmp_path_factory.mktemp("generated")
    generate(FIXTURE / "wit", root / "rtbind")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("rtbind")
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "rtbind" or n.startswith("rtbind.")]:
            del sys.modules[name]


class Blob:
    """The host's implementation of the imported `blob` resource."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def size(self) -> int:
        return len(self.data)


class HostFns:
    """The host's implementation of the imported `host-fns` interface."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def add(self, a: int, b: int) -> int:
        self.calls.append(("add", (a, b)))
        return a + b

    def describe(self, p: Any) -> str:
        self.calls.append(("describe", p))
        return f"({p.x}, {p.y})"

    def new_blob(self, data: bytes) -> Blob:
        return Blob(data)

    def make_blob(self, n: int) -> Blob:
        return Blob(bytes(n))

    def consume(self, b: Blob) -> int:
        self.calls.append(("consume", b))
        return len(b.data) + 1


class Greeter:
    """The host's implementation of the world-level `greet` import."""

    def greet(self, name: str) -> str:
        return f"hello, {name}"


@pytest.fixture(scope="module")
def host_fns() -> HostFns:
    """The host-fns implementation linked into `world` (records its calls)."""
    return HostFns()


NATIVE_HINT = (
    "the _fastc C extension is not built; install gcc and python3-dev, then pip install -e ."
)


def require_native() -> None:
    """Skip (laptop) or fail (CI) unless the C extension is built."""
    if not c_ext.AVAILABLE:
        missing(NATIVE_HINT)


def make_world(
    engine: wasmtime.Engine,
    component: wc.Component,
    rtbind: ModuleType,
    host_fns: HostFns,
    *,
    native: bool,
) -> Any:
    """A fresh instance in the generated `Roundtrip` class: exports and imports on one path."""
    roundtrip = importlib.import_module("rtbind.roundtrip")
    linker = wc.Linker(engine)
    linker.add_wasip2()
    roundtrip.add_imports_to_linker(linker, host_fns=host_fns, host=Greeter(), native=native)
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())  # before instantiating, or WASI calls abort
    instance = linker.instantiate(store, component)
    out = roundtrip.Roundtrip(store, instance, native=native)
    assert out.kinds._echo_u32.native is native  # the path under test is the one in use
    return out


@pytest.fixture(scope="module", params=["native", "python"])
def world(
    request: pytest.FixtureRequest,
    engine: wasmtime.Engine,
    roundtrip_component: wc.Component,
    rtbind: ModuleType,
    host_fns: HostFns,
) -> Any:
    """A fresh instance wrapped in the generated `Roundtrip` class (per test module and path)."""
    native = request.param == "native"
    if native:
        require_native()
    return make_world(engine, roundtrip_component, rtbind, host_fns, native=native)
