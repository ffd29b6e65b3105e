"""The runtime codecs: range checks, and agreement with wasmtime-py's value forms."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from dataflare.abi import rt
from dataflare.bindgen.parse import load_resolve
from dataflare.bindgen.plan import make_plan
from dataflare.bindgen.scope import Scope
from hypothesis import given
from hypothesis import strategies as st
from wasmtime.component import Record, Variant

from abi.conftest import FIXTURE

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
    assert codec.lower(inside, None) == inside
    outside = data.draw(st.integers(max_value=lo - 1) | st.integers(min_value=hi + 1))
    with pytest.raises(OverflowError):
        codec.lower(outside, None)


def test_bool_is_not_an_int_and_int_is_not_a_bool() -> None:
    with pytest.raises(TypeError):
        rt.U8.lower(True, None)
    with pytest.raises(TypeError):
        rt.BOOL.lower(1, None)


def test_floats_accept_ints_and_reject_strings() -> None:
    assert rt.F64.lower(3, None) == 3.0
    assert type(rt.F64.lower(3, None)) is float
    with pytest.raises(TypeError):
        rt.F32.lower("1", None)


def test_char_rejects_surrogates_and_long_strings() -> None:
    assert rt.CHAR.lower("é", None) == "é"
    with pytest.raises(ValueError, match="surrogate"):
        rt.CHAR.lower("\ud800", None)
    with pytest.raises(TypeError):
        rt.CHAR.lower("ab", None)


def test_bytes_accepts_buffers() -> None:
    assert rt.BYTES.lower(bytearray(b"ab"), None) == b"ab"
    assert rt.BYTES.lower(memoryview(b"ab"), None) == b"ab"
    with pytest.raises(TypeError):
        rt.BYTES.lower([1, 2], None)


@dataclasses.dataclass(frozen=True)
class Pt:
    x: int
    class_: str


def test_record_lowers_to_kebab_attributes_and_lifts_back() -> None:
    codec = rt.record(Pt, (("x", "x", rt.S32), ("class_", "class", rt.STRING)))
    raw = codec.lower(Pt(1, "c"), None)
    assert isinstance(raw, Record)
    assert raw.__dict__ == {"x": 1, "class": "c"}
    assert codec.lift(raw, None) == Pt(1, "c")
    with pytest.raises(TypeError):
        codec.lower({"x": 1, "class": "c"}, None)


@dataclasses.dataclass(frozen=True)
class Num:
    value: int


@dataclasses.dataclass(frozen=True)
class Flag:
    value: bool


@dataclasses.dataclass(frozen=True)
class Nothing:
    pass


def test_untagged_variant_round_trips_through_wasmtime_form() -> None:
    codec = rt.variant((("flag", Flag, rt.BOOL), ("num", Num, rt.S64), ("none", Nothing, None)))
    assert Variant not in codec.classes
    assert codec.lower(Num(5), None) == 5
    assert codec.lower(Flag(True), None) is True
    assert codec.lower(Nothing(), None) is None
    assert codec.lift(True, None) == Flag(True)
    assert codec.lift(5, None) == Num(5)
    assert codec.lift(None, None) == Nothing()


def test_untagged_case_wasmtime_would_misroute_is_refused() -> None:
    # wasmtime-py tries cases in order with isinstance: True is an int, so a
    # `flag` after a `num` case would silently be sent as num(1).
    codec = rt.variant((("num", Num, rt.S64), ("flag", Flag, rt.BOOL)))
    assert codec.lower(Num(1), None) == 1
    with pytest.raises(TypeError, match=r"'flag'.*'num'"):
        codec.lower(Flag(True), None)


def test_tagged_variant_uses_wasmtime_variant_objects() -> None:
    codec = rt.variant((("a", Num, rt.S64), ("b", Num, rt.S64)))
    assert codec.classes == frozenset({Variant})
    with pytest.raises(TypeError):
        codec.lower(5, None)


def test_nested_option_is_unambiguous() -> None:
    codec = rt.nested_option(rt.option(rt.U8))
    values = [None, rt.Some(None), rt.Some(3)]
    lowered = [codec.lower(v, None) for v in values]
    assert len({repr(v) for v in lowered}) == 3
    assert [codec.lift(v, None) for v in lowered] == values
    with pytest.raises(TypeError, match="Some"):
        codec.lower(3, None)


def test_result_requires_ok_or_err() -> None:
    codec = rt.result(rt.U8, rt.STRING)
    assert codec.lift(codec.lower(rt.Err("x"), None), None) == rt.Err("x")
    with pytest.raises(TypeError, match="Ok"):
        codec.lower(3, None)


def test_codecs_agree_with_wasmtime_about_every_fixture_type(world: Any, rtbind: Any) -> None:
    """Our idea of wasmtime's value form (classes, tagging) matches wasmtime's own."""
    import rtbind.kinds as kinds_mod

    plan = make_plan(load_resolve(FIXTURE / "wit"), None)
    iface = next(i for i in plan.interfaces if i.name == "kinds")
    scope = Scope(plan, plan.iface_module[iface.index])
    namespace = vars(kinds_mod)
    cx = world.kinds._cx
    checked = 0
    for func in iface.functions:
        wasm_params = cx.func("test:roundtrip/kinds@0.1.0", func.name).type(cx.store).params
        for param, (_, wasm_ty) in zip(func.params, wasm_params, strict=True):
            codec = eval(scope.codec(param.ty), namespace)  # our own generated expressions
            classes: set[type] = set()
            wasm_ty.add_classes(classes)
            assert codec.classes == classes, (func.name, param.name)
            checked += 1
    assert checked > 30
