"""The C extension (`_fastc`) against the pure-Python fast path, node by node and call by call.

Node-level tests need no guest: a value is lowered by one path and lifted by
the other, so the C-written trees must be exactly what the Python readers
expect (and the reverse); bad values and mismatched trees must fail with
the same exception type and message on both paths.
"""

from __future__ import annotations

import ctypes
import dataclasses
import struct
from typing import Any

import pytest
from abi.conftest import NATIVE_HINT, require_native
from abi.test_roundtrip import STRATEGIES
from dataflare._wit_v0_1 import filter as wit_filter
from dataflare._wit_v0_1 import transform as wit_transform
from dataflare._wit_v0_1 import types as wit
from dataflare.abi import c_ext, rt, val_memory, val_nodes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perf_equivalence.test_equivalence import deep_repr, junk
from perf_equivalence.test_equivalence import samples as equivalence_samples

SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_the_extension_is_built() -> None:
    """Fails in CI (where .ci/run installs gcc and python3-dev) and skips elsewhere."""
    if not c_ext.AVAILABLE:
        from support.tools import missing

        missing(NATIVE_HINT)
    from dataflare.abi import _fastc

    assert _fastc.VAL == val_memory.VAL


@pytest.fixture(autouse=True)
def _native_only(request: pytest.FixtureRequest) -> None:
    if request.node.name != "test_the_extension_is_built":
        require_native()


def specs(world: Any) -> dict[str, tuple[Any, ...]]:
    """Each echo export's WIT type spec."""
    return {name: getattr(world.kinds, "_" + name)._ret.spec for name in STRATEGIES}


WORLD_SPECS = {
    "record": wit._record_codec.spec,
    "list<record>": wit_transform._list_record_codec.spec,
    "transform outcomes": wit_transform._list_result_record_plugin_error_codec.spec,
    "filter outcomes": wit_filter._list_result_bool_plugin_error_codec.spec,
}


def outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except Exception as exc:
        return "raised", (type(exc), str(exc))


def lower_both(spec: tuple[Any, ...], value: Any) -> tuple[Any, Any, Any, Any]:
    """`value` lowered by C and by Python into arenas of their own: (outcome, arena) each."""
    node = c_ext.node(spec)
    py_lower = val_nodes.compile_spec(spec)[0]
    results = []
    for lower in (node.lower, py_lower):
        ar = val_memory._Arena(256)  # small blocks: lowering crosses blocks often
        addr = ar.alloc(val_memory.VAL)
        results += [outcome(lower, value, addr, ar), (ar, addr)]
    return tuple(results)  # type: ignore[return-value]


def arena_state(ar: val_memory._Arena) -> tuple[int, int]:
    """Blocks used and the offset in the last one: equal when the allocations were."""
    return len(ar._blocks), ar.pos - ctypes.addressof(ar._blocks[-1])


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_c_trees_read_back_in_python_and_python_trees_in_c(world: Any, name: str) -> None:
    spec = specs(world)[name]
    node = c_ext.node(spec)
    py_lift = val_nodes.compile_spec(spec)[1]

    @SETTINGS
    @given(STRATEGIES[name]())
    def check(value: Any) -> None:
        (c_out, (c_ar, c_addr), py_out, (py_ar, py_addr)) = lower_both(spec, value)
        assert c_out == py_out == ("ok", None)
        for got in (py_lift(c_addr), node.lift(py_addr), node.lift(c_addr)):
            assert got == value
            assert deep_repr(got) == deep_repr(value)
        # same allocations from the shared arena, delegated kinds included
        assert arena_state(c_ar) == arena_state(py_ar)

    check()


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_bad_values_fail_with_the_same_exception_and_message(world: Any, name: str) -> None:
    spec = specs(world)[name]

    @SETTINGS
    @given(junk | STRATEGIES[name]())
    def check(value: Any) -> None:
        c_out, (_c_ar, c_addr), py_out, (_py_ar, py_addr) = lower_both(spec, value)
        assert c_out == py_out, value
        if c_out[0] == "ok":
            assert deep_repr(c_ext.node(spec).lift(c_addr)) == deep_repr(
                val_nodes.compile_spec(spec)[1](py_addr)
            )

    check()


@pytest.mark.parametrize("label", sorted(WORLD_SPECS))
def test_the_worlds_own_types_agree_with_python(label: str) -> None:
    spec = WORLD_SPECS[label]
    text = st.text(st.characters(), max_size=6)  # lone surrogates included
    record = st.builds(
        wit.Record,
        key=st.none() | st.binary(max_size=8) | st.text(max_size=2),
        value=st.binary(max_size=40) | st.just(bytearray(b"ba")) | st.none(),
        timestamp=st.none() | st.integers(-(2**64), 2**64) | st.booleans(),
        metadata=st.lists(st.tuples(text, text) | st.tuples(text) | junk, max_size=3),
    )
    error = st.sampled_from(
        [wit.PluginErrorProcessing, wit.PluginErrorIo, wit.PluginErrorSerialization]
    ).map(lambda cls: cls("why"))
    values = st.one_of(
        record,
        st.lists(record, max_size=4),
        st.lists(st.builds(rt.Ok, record | st.booleans()) | st.builds(rt.Err, error), max_size=4),
        junk,
    )

    @settings(max_examples=300)
    @given(values)
    def check(value: Any) -> None:
        c_out, (_c_ar, c_addr), py_out, (_py_ar, py_addr) = lower_both(spec, value)
        assert c_out == py_out, value
        if c_out[0] == "ok":
            assert c_ext.node(spec).lift(py_addr) == value
            assert val_nodes.compile_spec(spec)[1](c_addr) == value

    check()


def test_records_are_built_like_their_constructor_builds_them() -> None:
    spec = wit_transform._list_result_record_plugin_error_codec.spec
    value = [rt.Ok(wit.Record(b"k", b"v", 3, [("a", "b")])), rt.Err(wit.PluginErrorIo("x"))]
    ar = val_memory._Arena()
    addr = ar.alloc(val_memory.VAL)
    c_ext.node(spec).lower(value, addr, ar)
    got = c_ext.node(spec).lift(addr)
    assert got == value and repr(got) == repr(value)
    assert type(got[0]) is rt.Ok and type(got[0].value) is wit.Record
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].value.key = b"x"  # type: ignore[misc]
    # filled slot by slot: these classes qualify; a class doing more in __init__ does not
    for cls, names in (
        (wit.Record, ("key", "value", "timestamp", "metadata")),
        (rt.Ok, ("value",)),
    ):
        assert c_ext.slots(cls, names) is not None


@dataclasses.dataclass
class Checked:
    """A record class whose constructor does more than fill slots."""

    x: int

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("negative")


class Plain:
    """Not a dataclass: built by calling it."""

    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plain) and other.x == self.x


def _tree(spec: tuple[Any, ...], value: Any) -> tuple[val_memory._Arena, int]:
    """`value` lowered by the Python path: (its arena, the root's address)."""
    ar = val_memory._Arena()
    addr = ar.alloc(val_memory.VAL)
    val_nodes.compile_spec(spec)[0](value, addr, ar)
    return ar, addr


@pytest.mark.parametrize("cls", [Checked, Plain])
def test_other_record_classes_are_called(cls: Any) -> None:
    assert c_ext.slots(cls, ("x",)) is None
    spec = ("record", cls, (("x", "x", rt.S32.spec),))
    ar, addr = _tree(spec, cls(1))  # `ar` owns the tree: keep it
    _, _, fields = struct.unpack_from("<B7xQQ", val_memory.MEM, addr)
    struct.pack_into("<B7xi", val_memory.MEM, fields + 16, val_memory.K_S32, -3)  # x = -3
    got = outcome(c_ext.node(spec).lift, addr)
    assert got == outcome(val_nodes.compile_spec(spec)[1], addr)
    assert got == (("raised", (ValueError, "negative")) if cls is Checked else ("ok", Plain(-3)))
    del ar


# ---------------------------------------------------------------- mismatched trees


def test_every_tree_read_as_every_other_type_fails_alike(world: Any) -> None:
    """A value of one WIT type read as another: the C and reference readers agree, never crash."""
    all_specs = specs(world)
    samples = equivalence_samples()
    assert set(samples) == set(all_specs)
    compared = 0
    for written, value in samples.items():
        ar, addr = _tree(all_specs[written], value)  # `ar` owns the tree while it is read
        for read, spec in all_specs.items():
            c = outcome(c_ext.node(spec).lift, addr)
            ref = outcome(val_nodes.compile_spec(spec)[1], addr)
            assert c[0] == ref[0], (written, read, c, ref)
            if c[0] == "ok":
                assert deep_repr(c[1]) == deep_repr(ref[1]), (written, read)
            else:
                assert c[1] == ref[1], (written, read)
            compared += 1
        del ar
    assert compared == len(samples) ** 2


def test_hand_made_bad_trees_fail_alike(rtbind: Any) -> None:
    """Payload pointers that contradict the type, unknown cases, wrong sizes and element kinds."""
    ar = val_memory._Arena()
    val = ar.alloc(4 * val_memory.VAL)
    inner = val + val_memory.VAL
    struct.pack_into("<B7xI", val_memory.MEM, inner, val_memory.K_U32, 7)
    name = val_memory._static(b"nope")
    shape = rtbind.kinds._shape_codec.spec
    cases: list[tuple[tuple[Any, ...], bytes]] = [
        # result<u32, string> that is ok without a payload; result<_, string> ok with one
        (rt.result(rt.U32, rt.STRING).spec, struct.pack("<B7x?7xQ", val_memory.K_RESULT, True, 0)),
        (
            rt.result(None, rt.STRING).spec,
            struct.pack("<B7x?7xQ", val_memory.K_RESULT, True, inner),
        ),
        # a variant case nobody declared; a declared case without its payload
        (shape, struct.pack("<B7xQQQ", val_memory.K_VARIANT, 4, name, 0)),
        (shape, struct.pack("<B7xQQQ", val_memory.K_VARIANT, 6, val_memory._static(b"circle"), 0)),
        # a 1-tuple where a 2-tuple is expected; a record with one field too few
        (rt.tuple_of(rt.U32, rt.U32).spec, struct.pack("<B7xQQ", val_memory.K_TUPLE, 1, inner)),
        (
            rtbind.kinds._point_codec.spec,
            struct.pack("<B7xQQ", val_memory.K_RECORD, 1, inner),
        ),
        # a list<u8> whose element is a u32; every kind byte where a u32 is expected
        (rt.BYTES.spec, struct.pack("<B7xQQ", val_memory.K_LIST, 1, inner)),
        *(
            (rt.U32.spec, struct.pack("<B7xQ", kind, 0))
            for kind in range(256)
            if kind != val_memory.K_U32
        ),
    ]
    for spec, tree in cases:
        val_memory.MEM[val : val + len(tree)] = tree
        c = outcome(c_ext.node(spec).lift, val)
        ref = outcome(val_nodes.compile_spec(spec)[1], val)
        assert c[0] == ref[0] == "raised", (spec, c, ref)
        assert c[1] == ref[1]
