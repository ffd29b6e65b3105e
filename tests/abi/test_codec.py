"""Codecs as the Python reference nodes compile them: checks, round trips, and WIT agreement.

A codec is only a type descriptor; these tests lower values with the Python
nodes (`val_nodes`) into an arena and lift them back, with no guest.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from dataflare.abi import rt
from dataflare.abi.functype import check_func_type
from dataflare.abi.val_memory import VAL, _Arena
from dataflare.abi.val_nodes import compile_spec
from dataflare.bindgen.parse import load_resolve
from dataflare.bindgen.plan import make_plan
from dataflare.bindgen.scope import Scope
from hypothesis import given
from hypothesis import strategies as st

from abi.conftest import FIXTURE


def roundtrip(codec: rt.Codec[Any], value: Any) -> Any:
    """`value` lowered to a value array by the Python nodes, then lifted back."""
    lower, lift = compile_spec(codec.spec)
    arena = _Arena()
    addr = arena.alloc(VAL)
    lower(value, addr, arena)
    try:
        return lift(addr)
    finally:
        arena.reset()


BOUNDS = {
    rt.S8: (-(2**7), 2**7 - 1),
    rt.S16: (-(2**15), 2**15 - 1),
    rt.S32: (-(2**31), 2**31 - 1),
    rt.S64: (-(2**63), 2**63 - 1),
    rt.U8: (0, 2**8 - 1),
    rt.U16: (0, 2**16 - 1),
    rt.U32: (0, 2**32 - 1),
    rt.U64: (0, 2**64 - 1),
}


@pytest.mark.parametrize("codec", list(BOUNDS), ids=[str(b) for b in BOUNDS.values()])
@given(data=st.data())
def test_int_codecs_accept_exactly_their_range(codec: rt.Codec[int], data: st.DataObject) -> None:
    lo, hi = BOUNDS[codec]
    inside = data.draw(st.integers(lo, hi))
    assert roundtrip(codec, inside) == inside
    outside = data.draw(st.integers(max_value=lo - 1) | st.integers(min_value=hi + 1))
    with pytest.raises(OverflowError):
        roundtrip(codec, outside)


def test_bool_is_not_an_int_and_int_is_not_a_bool() -> None:
    with pytest.raises(TypeError):
        roundtrip(rt.U8, True)
    with pytest.raises(TypeError):
        roundtrip(rt.BOOL, 1)


def test_floats_accept_ints_and_reject_strings() -> None:
    assert roundtrip(rt.F64, 3) == 3.0
    assert type(roundtrip(rt.F64, 3)) is float
    with pytest.raises(TypeError):
        roundtrip(rt.F32, "1")


def test_char_rejects_surrogates_and_long_strings() -> None:
    assert roundtrip(rt.CHAR, "é") == "é"
    with pytest.raises(ValueError, match="surrogate"):
        roundtrip(rt.CHAR, "\ud800")
    with pytest.raises(TypeError):
        roundtrip(rt.CHAR, "ab")


def test_bytes_accepts_buffers() -> None:
    assert roundtrip(rt.BYTES, bytearray(b"ab")) == b"ab"
    assert roundtrip(rt.BYTES, memoryview(b"ab")) == b"ab"
    with pytest.raises(TypeError):
        roundtrip(rt.BYTES, [1, 2])


@dataclasses.dataclass(frozen=True)
class Pt:
    x: int
    class_: str


def test_record_round_trips_and_refuses_other_objects() -> None:
    codec = rt.record(Pt, (("x", "x", rt.S32), ("class_", "class", rt.STRING)))
    assert codec.spec[2][1][:2] == ("class_", "class")  # the WIT name travels with the field
    assert roundtrip(codec, Pt(1, "c")) == Pt(1, "c")
    with pytest.raises(TypeError):
        roundtrip(codec, {"x": 1, "class": "c"})


@dataclasses.dataclass(frozen=True)
class Num:
    value: int


@dataclasses.dataclass(frozen=True)
class Flag:
    value: bool


@dataclasses.dataclass(frozen=True)
class Nothing:
    pass


def test_variant_cases_are_tagged_whatever_their_payload_types() -> None:
    # wasmtime-py's own conversion could not send a bool case after an int one
    codec = rt.variant((("num", Num, rt.S64), ("flag", Flag, rt.BOOL), ("none", Nothing, None)))
    for value in (Num(1), Flag(True), Nothing()):
        assert roundtrip(codec, value) == value
    with pytest.raises(TypeError, match="expected one of Num, Flag, Nothing"):
        roundtrip(codec, 5)


def test_nested_option_is_unambiguous() -> None:
    codec = rt.nested_option(rt.option(rt.U8))
    values = [None, rt.Some(None), rt.Some(3)]
    assert [roundtrip(codec, v) for v in values] == values
    with pytest.raises(TypeError, match="Some"):
        roundtrip(codec, 3)


def test_result_requires_ok_or_err() -> None:
    codec = rt.result(rt.U8, rt.STRING)
    assert roundtrip(codec, rt.Err("x")) == rt.Err("x")
    with pytest.raises(TypeError, match="Ok"):
        roundtrip(codec, 3)


def test_codecs_match_wasmtimes_type_of_every_fixture_function(world: Any, rtbind: Any) -> None:
    """The generated codecs describe exactly the component's types, resources included."""
    import rtbind.kinds as kinds_mod

    plan = make_plan(load_resolve(FIXTURE / "wit"), None)
    iface = next(i for i in plan.interfaces if i.name == "kinds")
    scope = Scope(plan, plan.iface_module[iface.index])
    namespace = vars(kinds_mod)
    cx = world.kinds._cx
    for func in iface.functions:
        params = [eval(scope.codec(p.ty), namespace) for p in func.params]  # generated text
        result = None if func.result is None else eval(scope.codec(func.result), namespace)
        check_func_type(cx.func("test:roundtrip/kinds@0.1.0", func.name), cx.store, params, result)
    assert any(f.resource is not None for f in iface.functions)
