"""The C path and the Python path agree with each other on every WIT kind.

Each export is bound twice: the fast path in C (`native`, when the extension
is built) and the same path in Python (`val_nodes`, the reference). Both call
the round-trip echo guest (tests/fixtures/roundtrip), so what comes back must
equal what went in: the oracle that does not depend on either path. C and
Python must also raise the same exception messages, on junk values and on
results read as the wrong kind.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Callable
from typing import Any

import pytest
import wasmtime
from abi.conftest import HostFns, make_world, require_native
from abi.test_roundtrip import INT_RANGES, STRATEGIES, kinds_module
from dataflare.abi import c_ext, rt, val_memory
from dataflare.abi.typedfunc import TypedFunc
from dataflare.errors import GuestTrap
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


def paths(world: Any, name: str) -> dict[str, TypedFunc[Any]]:
    """Export `name` bound on every codec path (no "native" when the extension is not built)."""
    bound = getattr(world.kinds, "_" + name)
    cx, func, params, ret = bound._cx, bound._func, bound._params, bound._ret
    out: dict[str, TypedFunc[Any]] = {
        "python": TypedFunc(cx, func, params, ret, native=False),
    }
    if c_ext.AVAILABLE:
        out["native"] = TypedFunc(cx, func, params, ret, native=True)
        assert out["native"].native
    assert not out["python"].native
    return out


def outcome(fn: TypedFunc[Any], value: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(value)
    except Exception as exc:  # the kind of failure is what must agree
        return "raised", type(exc)


def failure(fn: TypedFunc[Any], value: Any) -> tuple[type, str] | None:
    """The exception type and message of `fn(value)`, None when it succeeds."""
    try:
        fn(value)
    except Exception as exc:
        return type(exc), str(exc)
    return None


def deep_repr(value: Any) -> str:
    """repr that also shows the type of every nested value (1 vs 1.0, bytes vs list)."""
    if isinstance(value, list | tuple):
        inner = ", ".join(deep_repr(v) for v in value)
        return f"{type(value).__name__}[{inner}]"
    return f"{type(value).__name__}:{value!r}"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_valid_values_round_trip_identically(world: Any, name: str) -> None:
    fns = paths(world, name)

    @SETTINGS
    @given(STRATEGIES[name]())
    def check(value: Any) -> None:
        got = {path: fn(value) for path, fn in fns.items()}
        assert all(v == value for v in got.values()), got
        assert len({deep_repr(v) for v in got.values()}) == 1, got

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


def echoed(name: str, got: Any, sent: Any) -> bool:
    """Whether `got` is what the echo guest gives back for `sent`.

    f32 rounds, NaN is NaN, and a result side with no type drops its payload.
    """
    if isinstance(got, float):
        want = float(sent)
        if name == "echo_f32" and math.isfinite(want):
            try:
                want = struct.unpack("<f", struct.pack("<f", want))[0]
            except OverflowError:  # beyond f32: rounds to infinity
                want = math.copysign(math.inf, want)
        return (math.isnan(got) and math.isnan(want)) or got == want
    if isinstance(got, rt.Ok | rt.Err) and got.value is None:  # a side with no type: no payload
        return type(got) is type(sent)
    return bool(got == sent)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_arbitrary_values_succeed_or_fail_alike(world: Any, name: str) -> None:
    """Wrong types, out-of-range integers, bad text: a value error or an echo, never a crash."""
    fns = paths(world, name)
    fast = fns["python"]

    @SETTINGS
    @given(junk)
    def check(value: Any) -> None:
        got_fast = outcome(fast, value)
        if got_fast[0] == "ok":  # accepted (maybe coerced: bytearray, int subclass): echoed
            assert echoed(name, got_fast[1], value), (value, got_fast)
        else:  # refused before the guest: the guest never traps on a value we sent
            assert issubclass(got_fast[1], TypeError | ValueError | OverflowError), got_fast
        if "native" in fns:  # C and Python: the same exception and message, or the same value
            assert failure(fns["native"], value) == failure(fast, value), value
            if got_fast[0] == "ok":
                assert deep_repr(fns["native"](value)) == deep_repr(got_fast[1])

    check()
    assert world.kinds.echo_u32(7) == 7  # the instance is still usable


@pytest.mark.parametrize(
    ("name", "bad"), [(n, v) for n, (lo, hi) in INT_RANGES.items() for v in (lo - 1, hi + 1)]
)
def test_integer_ranges_are_checked(world: Any, name: str, bad: int) -> None:
    fns = paths(world, "echo_" + name)
    for path in ("native", "python"):
        if path in fns:
            with pytest.raises(OverflowError, match=f"^{bad} is out of range for {name} "):
                fns[path](bad)


@pytest.mark.parametrize("native", [True, False])
def test_large_and_many_values_cross_arena_blocks(world: Any, native: bool) -> None:
    if native:
        require_native()
    kinds = world.kinds

    def bind(name: str) -> TypedFunc[Any]:
        f = getattr(kinds, "_" + name)
        return TypedFunc(f._cx, f._func, f._params, f._ret, native=native)

    echo_bytes, echo_strings = bind("echo_bytes"), bind("echo_strings")
    big = bytes(range(256)) * 4096  # 1 MiB: 32 MiB of value arrays
    assert echo_bytes(big) == big
    many = [f"s{i}" * (i % 7) for i in range(5000)]
    assert echo_strings(many) == many
    assert echo_bytes(b"") == b""
    assert echo_strings([]) == []


def samples() -> dict[str, Any]:
    """One valid, non-empty value for every echo export."""
    k = kinds_module()
    return {
        "echo_bool": True, "echo_s8": -3, "echo_u8": 200, "echo_s16": -300, "echo_u16": 60000,
        "echo_s32": -7, "echo_u32": 7, "echo_s64": -(2**40), "echo_u64": 2**63, "echo_f32": 1.5,
        "echo_f64": -2.25, "echo_char": "é", "echo_string": "text", "echo_bytes": b"\x00\xff",
        "echo_alias": b"ab", "echo_list": [1, -2], "echo_strings": ["a", ""],
        "echo_tuple": (1, "a", 2.0), "echo_option": 5, "echo_nested_option": rt.Some(None),
        "echo_result": rt.Err("e"), "echo_result_same": rt.Ok("o"),
        "echo_result_no_ok": rt.Ok(None), "echo_result_no_err": rt.Err(None),
        "echo_result_bare": rt.Ok(None), "echo_enum": k.Color.DARK_BLUE,
        "echo_flags": k.Perms.READ | k.Perms.EXEC_ALL, "echo_shape": k.ShapeNamed("n"),
        "echo_mixed": k.MixedNothing(), "echo_keywords": k.Keywords(1, "c", True),
        "echo_nested": k.Nested(
            k.Point(1, 2), None, [k.Point(3, 4)], k.Color.RED, k.Perms.WRITE,
            k.ShapePair((5, 6)), [("p", b"q")], rt.Some(9),
        ),
    }  # fmt: skip


def test_a_result_of_the_wrong_kind_raises_instead_of_being_misread(world: Any) -> None:
    echo = world.kinds._echo_u32
    for native in (False, True) if c_ext.AVAILABLE else (False,):
        # skip the bind-time type check to reach the reader's own checks
        misread = TypedFunc(
            echo._cx, echo._func, echo._params, rt.STRING, check=False, native=native
        )
        with pytest.raises(TypeError, match="guest returned value kind 6 where string"):
            misread(5)
        assert bytes(misread._result) == bytes(val_memory.VAL)  # released and reset
    assert world.kinds.echo_u32(5) == 5


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_result_read_as_every_other_type_fails_alike(world: Any, name: str) -> None:
    """A guest's real result read as another WIT type: C and the Python reference agree."""
    require_native()
    echo = getattr(world.kinds, "_" + name)
    value = samples()[name]
    cx, func, params = echo._cx, echo._func, echo._params
    readers = [getattr(world.kinds, "_" + other)._ret for other in sorted(STRATEGIES)]
    native = [TypedFunc(cx, func, params, r, check=False, native=True) for r in readers]
    reference = [TypedFunc(cx, func, params, r, check=False, native=False) for r in readers]
    for c, ref in zip(native, reference, strict=True):
        got, want = outcome(c, value), outcome(ref, value)
        assert failure(c, value) == failure(ref, value), (name, c._ret.spec)
        if got[0] == "ok":
            assert deep_repr(got[1]) == deep_repr(want[1])
        assert bytes(c._result) == bytes(val_memory.VAL)  # released and reset either way
    assert echo(value) == value  # the instance is still usable


def test_a_function_type_mismatch_is_refused_when_bound(world: Any) -> None:
    from dataflare.errors import WorldMismatchError

    echo = world.kinds._echo_u32
    for native in (False, True):
        for params, result in (((rt.STRING,), rt.U32), ((rt.U32,), rt.STRING), ((), rt.U32)):
            with pytest.raises(WorldMismatchError):
                TypedFunc(echo._cx, echo._func, params, result, native=native)
    assert world.kinds.echo_u32(9) == 9


@pytest.mark.parametrize("native", [True, False])
def test_wrong_argument_count_raises(world: Any, native: bool) -> None:
    if native:
        require_native()
    echo = world.kinds._echo_u32
    bound = TypedFunc(echo._cx, echo._func, echo._params, echo._ret, native=native)
    with pytest.raises(TypeError, match="expected 1 arguments, got 2"):
        bound(1, 2)


class Failing(HostFns):
    """Host functions whose `add` (the guest's `call-add` calls it) raises `make()`."""

    def __init__(self, make: Callable[[], Exception]) -> None:
        super().__init__()
        self.make = make

    def add(self, a: int, b: int) -> int:
        # a fresh exception every time: wasmtime-py consumes a raised
        # WasmtimeError, and raising the same one twice crashes the process
        raise self.make()


def _fails_on_each_path(
    engine: Any, component: Any, rtbind: Any, make: Callable[[], Exception]
) -> dict[bool, BaseException]:
    """What `call_add` raises on a fresh instance per path whose host `add` raises `make()`."""
    raised: dict[bool, BaseException] = {}
    for native in (True, False) if c_ext.AVAILABLE else (False,):
        w = make_world(engine, component, rtbind, Failing(make), native=native)
        with pytest.raises(Exception) as info:
            w.call_add(1, 2)
        raised[native] = info.value
    return raised


def test_a_host_callback_exception_propagates_on_both_paths(
    engine: Any, roundtrip_component: Any, rtbind: Any
) -> None:
    class Custom(Exception):
        pass

    raised = _fails_on_each_path(
        engine, roundtrip_component, rtbind, lambda: Custom("from the host")
    )
    for exc in raised.values():
        assert type(exc) is Custom and str(exc) == "from the host"


def test_a_trap_is_the_same_guest_trap_on_both_paths(
    engine: Any, roundtrip_component: Any, rtbind: Any
) -> None:
    raised = _fails_on_each_path(
        engine, roundtrip_component, rtbind, lambda: wasmtime.WasmtimeError("host refused")
    )
    for exc in raised.values():
        assert type(exc) is GuestTrap and "host refused" in str(exc)
        assert isinstance(exc.__cause__, wasmtime.WasmtimeError)
    assert len({str(exc) for exc in raised.values()}) == 1
