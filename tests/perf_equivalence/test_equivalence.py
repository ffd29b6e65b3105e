"""The fast codec path and the stock `Func.__call__` path agree on every WIT type kind.

Each generated export is a `TypedFunc` on the fast path; its twin built with
`fast=False` lowers through the same codecs to wasmtime-py values and calls
`Func.__call__`. Both call the round-trip echo guest (tests/fixtures/roundtrip).
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
from bindgen.test_roundtrip import INT_RANGES, STRATEGIES
from dataflare.bindgen import fastnodes, rt
from dataflare.bindgen.fastcodec import TypedFunc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


def twins(world: Any, name: str) -> tuple[TypedFunc[Any], TypedFunc[Any]]:
    """The generated (fast) export `name` and its stock-path twin."""
    fast = getattr(world.kinds, "_" + name)
    assert isinstance(fast, TypedFunc) and fast.fast
    stock = TypedFunc(fast._cx, fast._func, fast._params, fast._ret, fast=False)
    return fast, stock


def outcome(fn: TypedFunc[Any], value: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(value)
    except Exception as exc:  # the kind of failure is what must agree
        return "raised", type(exc)


def deep_repr(value: Any) -> str:
    """repr that also shows the type of every nested value (1 vs 1.0, bytes vs list)."""
    if isinstance(value, list | tuple):
        inner = ", ".join(deep_repr(v) for v in value)
        return f"{type(value).__name__}[{inner}]"
    return f"{type(value).__name__}:{value!r}"


def closure_twin(fast: TypedFunc[Any], monkeypatch: pytest.MonkeyPatch) -> TypedFunc[Any]:
    """`fast` compiled with the reference closures instead of generated source."""
    monkeypatch.setattr(fastnodes, "_use_generated", False)
    monkeypatch.setattr(fastnodes, "_compiled", {})
    return TypedFunc(fast._cx, fast._func, fast._params, fast._ret)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_valid_values_round_trip_identically(
    world: Any, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, stock = twins(world, name)
    closures = closure_twin(fast, monkeypatch)

    @SETTINGS
    @given(STRATEGIES[name]())
    def check(value: Any) -> None:
        via_fast = fast(value)
        via_stock = stock(value)
        via_closures = closures(value)
        assert via_fast == via_stock == via_closures == value
        assert deep_repr(via_fast) == deep_repr(via_stock) == deep_repr(via_closures)

    check()


class Small(enum.IntEnum):
    """An int subclass: accepted (as its int value) by both paths."""

    ONE = 1


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.lists(st.integers(-(2**65), 2**65), max_size=3),
    st.tuples(st.integers(), st.text(max_size=2)),
    st.just(Small.ONE),
    st.just(bytearray(b"ab")),
    st.builds(object),
    st.just("\ud800"),  # a lone surrogate: not encodable as UTF-8
    st.builds(rt.Ok, st.integers(-(2**40), 2**40)),
    st.builds(rt.Err, st.text(max_size=3)),
    st.builds(rt.Some, st.none() | st.text(max_size=3)),
)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_arbitrary_values_succeed_or_fail_alike(
    world: Any, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong types, out-of-range integers, bad text: the same exception type, never a crash."""
    fast, stock = twins(world, name)
    closures = closure_twin(fast, monkeypatch)

    @SETTINGS
    @given(junk)
    def check(value: Any) -> None:
        got_fast, got_stock = outcome(fast, value), outcome(stock, value)
        assert got_fast[0] == got_stock[0], (value, got_fast, got_stock)
        got_closures = outcome(closures, value)
        assert got_closures[0] == got_fast[0]
        if got_fast[0] == "raised":
            assert got_closures[1] is got_fast[1]
        if got_fast[0] == "ok":
            assert deep_repr(got_fast[1]) == deep_repr(got_stock[1])
        else:
            assert got_fast[1] is got_stock[1], (value, got_fast, got_stock)

    check()
    assert world.kinds.echo_u32(7) == 7  # the instance is still usable


@pytest.mark.parametrize(
    ("name", "bad"), [(n, v) for n, (lo, hi) in INT_RANGES.items() for v in (lo - 1, hi + 1)]
)
def test_integer_ranges_are_checked(world: Any, name: str, bad: int) -> None:
    fast, _ = twins(world, "echo_" + name)
    with pytest.raises(OverflowError, match=name):
        fast(bad)


def test_large_and_many_values_cross_arena_blocks(world: Any) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB: 32 MiB of value arrays
    assert world.kinds.echo_bytes(big) == big
    many = [f"s{i}" * (i % 7) for i in range(5000)]
    assert world.kinds.echo_strings(many) == many
    assert world.kinds.echo_bytes(b"") == b""
    assert world.kinds.echo_strings([]) == []


def test_a_result_of_the_wrong_kind_raises_instead_of_being_misread(world: Any) -> None:
    echo = world.kinds._echo_u32
    # skip the bind-time type check to reach the reader's own checks
    misread = TypedFunc(echo._cx, echo._func, echo._params, rt.STRING, check=False)
    with pytest.raises(TypeError, match="kind"):
        misread(5)
    assert world.kinds.echo_u32(5) == 5


def test_a_function_type_mismatch_is_refused_when_bound(world: Any) -> None:
    from dataflare.errors import WorldMismatchError

    echo = world.kinds._echo_u32
    for params, result in (((rt.STRING,), rt.U32), ((rt.U32,), rt.STRING), ((), rt.U32)):
        with pytest.raises(WorldMismatchError):
            TypedFunc(echo._cx, echo._func, params, result)
    assert world.kinds.echo_u32(9) == 9


def test_wrong_argument_count_raises(world: Any) -> None:
    with pytest.raises(TypeError, match="arguments"):
        world.kinds._echo_u32(1, 2)
