"""Values of every WIT type kind survive a trip through a real guest unchanged.

The guest (tests/fixtures/roundtrip/guest) returns each `echo-*` argument;
calls go through the generated `Roundtrip` class over plain wasmtime.
"""

from __future__ import annotations

from typing import Any

import pytest
from dataflare.abi import rt
from dataflare.abi.typedfunc import TypedFunc
from hypothesis import given
from hypothesis import strategies as st

from abi.conftest import HostFns, make_world, require_native

INT_RANGES = {
    "s8": (-(2**7), 2**7 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "s64": (-(2**63), 2**63 - 1),
    "u8": (0, 2**8 - 1),
    "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**64 - 1),
}

chars = st.characters(exclude_categories=("Cs",))
text = st.text(chars, max_size=40)
f32s = st.floats(width=32, allow_nan=False)
f64s = st.floats(allow_nan=False)


def kinds_module() -> Any:
    import rtbind.kinds

    return rtbind.kinds


def points() -> st.SearchStrategy[Any]:
    k = kinds_module()
    s32 = st.integers(*INT_RANGES["s32"])
    return st.builds(k.Point, x=s32, y=s32)


def shapes() -> st.SearchStrategy[Any]:
    k = kinds_module()
    s32 = st.integers(*INT_RANGES["s32"])
    return st.one_of(
        st.builds(k.ShapeCircle, f64s),
        st.builds(k.ShapeSquare, f64s),
        st.just(k.ShapeEmpty()),
        st.builds(k.ShapeNamed, text),
        st.builds(k.ShapePair, st.tuples(s32, s32)),
    )


def mixeds() -> st.SearchStrategy[Any]:
    k = kinds_module()
    return st.one_of(
        st.builds(k.MixedFlag, st.booleans()),
        st.builds(k.MixedNum, st.integers(*INT_RANGES["s64"])),
        st.builds(k.MixedText, text),
        st.just(k.MixedNothing()),
    )


def perms() -> st.SearchStrategy[Any]:
    k = kinds_module()
    return st.sets(st.sampled_from(list(k.Perms))).map(
        lambda members: k.Perms(sum(m.value for m in members))
    )


def nested_options(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.builds(rt.Some, st.one_of(st.none(), inner)))


def nesteds() -> st.SearchStrategy[Any]:
    k = kinds_module()
    return st.builds(
        k.Nested,
        origin=points(),
        tag=st.none() | text,
        path=st.lists(points(), max_size=4),
        color=st.sampled_from(list(k.Color)),
        perms=perms(),
        shape=shapes(),
        pairs=st.lists(st.tuples(text, st.binary(max_size=16)), max_size=4),
        maybe_maybe=nested_options(st.integers(*INT_RANGES["u32"])),
    )


def results(ok: st.SearchStrategy[Any], err: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.builds(rt.Ok, ok), st.builds(rt.Err, err))


# echo function -> strategy; built lazily because `rtbind` is generated per session
STRATEGIES: dict[str, Any] = {
    "echo_bool": lambda: st.booleans(),
    **{
        f"echo_{n}": (lambda lo=lo, hi=hi: st.integers(lo, hi))
        for n, (lo, hi) in INT_RANGES.items()
    },
    "echo_f32": lambda: f32s,
    "echo_f64": lambda: f64s,
    "echo_char": lambda: chars,
    "echo_string": lambda: text,
    "echo_bytes": lambda: st.binary(max_size=64),
    "echo_alias": lambda: st.binary(max_size=64),
    "echo_list": lambda: st.lists(st.integers(*INT_RANGES["s64"]), max_size=16),
    "echo_strings": lambda: st.lists(text, max_size=8),
    "echo_tuple": lambda: st.tuples(st.integers(0, 255), text, f64s),
    "echo_option": lambda: st.none() | st.integers(*INT_RANGES["u32"]),
    "echo_nested_option": lambda: nested_options(text),
    "echo_result": lambda: results(st.integers(*INT_RANGES["u32"]), text),
    "echo_result_same": lambda: results(text, text),
    "echo_result_no_ok": lambda: results(st.none(), text),
    "echo_result_no_err": lambda: results(st.integers(*INT_RANGES["u32"]), st.none()),
    "echo_result_bare": lambda: results(st.none(), st.none()),
    "echo_enum": lambda: st.sampled_from(list(kinds_module().Color)),
    "echo_flags": perms,
    "echo_shape": shapes,
    "echo_mixed": mixeds,
    "echo_keywords": lambda: st.builds(
        kinds_module().Keywords, from_=st.integers(0, 255), class_=text, type=st.booleans()
    ),
    "echo_nested": nesteds,
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_echo_round_trips(world: Any, name: str) -> None:
    echo = getattr(world.kinds, name)

    @given(STRATEGIES[name]())
    def check(value: Any) -> None:
        back = echo(value)
        assert back == value
        assert type(back) is type(value)

    check()


def test_every_echo_export_is_covered(world: Any) -> None:
    echoes = {n for n in dir(world.kinds) if n.startswith("echo_")}
    assert echoes == set(STRATEGIES)


@given(st.integers(0, 2**32 - 1), text)
def test_keyword_parameters(world: Any, n: int, s: str) -> None:
    assert world.kinds.lambda_(n, s) == (n, s)


def test_guest_resource_constructor_methods_and_static(world: Any) -> None:
    k = kinds_module()
    with k.Counter(world.kinds, 5) as counter:
        counter.incr(2)
        assert counter.get() == 7
        assert world.kinds.read_counter(counter) == 7  # borrowed, still ours
        assert counter.get() == 7
    with pytest.raises(ValueError, match="dropped"):
        counter.get()
    made = k.Counter.make(world.kinds, 9)
    assert isinstance(made, k.Counter)
    assert made.get() == 9
    made.drop()
    # constructor, methods and static: bound once each, on the world's codec path
    bound = world.kinds._cx._typed
    assert {name for _, name in bound} >= {"[constructor]counter", "[static]counter.make"}
    assert all(f.native is world.kinds._cx.native for f in bound.values())


@pytest.mark.parametrize("native", [True, False])
def test_resource_exports_take_the_chosen_codec_path(world: Any, native: bool) -> None:
    # handles used to fall back to wasmtime-py's own conversion, whatever `native` said
    if native:
        require_native()
    k = kinds_module()
    read, many = world.kinds._read_counter, world.kinds._counters
    read = TypedFunc(read._cx, read._func, read._params, read._ret, native=native)
    many = TypedFunc(many._cx, many._func, many._params, many._ret, native=native)
    assert read.native is native and many.native is native
    made = many([4, 5])
    assert [type(c) for c in made] == [k.Counter, k.Counter]
    assert [read(c) for c in made] == [4, 5]  # borrowed: still ours
    assert read._arena.handles == []  # the boxes lent to the guest were freed
    for c in made:
        c.drop()
    with pytest.raises(TypeError, match="resource object, got int"):
        read(5)


@pytest.mark.parametrize("native", [True, False])
def test_host_functions_serve_on_the_chosen_codec_path(
    engine: Any, roundtrip_component: Any, rtbind: Any, native: bool
) -> None:
    # they used to go through wasmtime-py's own conversion and the stock codecs
    if native:
        require_native()
    w = make_world(engine, roundtrip_component, rtbind, HostFns(), native=native)
    assert w.call_add(2, 40) == 42 and w.call_describe(-1, 2) == "(-1, 2)"
    assert w.blob_dance(3) == (3, 4)  # an owned host handle out and back in
    bad = make_world(engine, roundtrip_component, rtbind, WrongAdd(), native=native)
    with pytest.raises(TypeError, match="u32 expects int, got str"):
        bad.call_add(1, 2)  # the error lowering the host's result arrives as itself


class WrongAdd(HostFns):
    """`add` returns a str where the WIT says u32."""

    def add(self, a: int, b: int) -> Any:
        return "not a u32"


def test_guest_resources_in_a_list(world: Any) -> None:
    counters = world.kinds.counters([1, 2, 3])
    assert [c.get() for c in counters] == [1, 2, 3]
    for c in counters:
        c.drop()


def test_host_interface_and_world_imports(world: Any, host_fns: Any) -> None:
    assert world.call_add(2, 40) == 42
    assert world.call_greet("wasm") == "hello, wasm"
    assert world.call_describe(3, -4) == "(3, -4)"
    k = kinds_module()
    assert ("describe", k.Point(3, -4)) in host_fns.calls


def test_host_resource_constructed_and_called_by_the_guest(world: Any) -> None:
    assert world.blob_size(b"hello") == 5
    assert world.blob_size(b"") == 0


def test_host_resource_returned_to_the_guest_and_handed_back(world: Any, host_fns: Any) -> None:
    # make-blob sends an owned host handle out; consume receives it back
    before = len(host_fns.calls)  # host_fns is shared by both codec paths' worlds
    assert world.blob_dance(7) == (7, 8)
    consumed = [arg for name, arg in host_fns.calls[before:] if name == "consume"]
    assert len(consumed) == 1
    assert consumed[0].data == bytes(7)


@pytest.mark.parametrize(
    ("name", "bad"), [(n, v) for n, (lo, hi) in INT_RANGES.items() for v in (lo - 1, hi + 1)]
)
def test_out_of_range_ints_raise_before_reaching_the_guest(
    world: Any, name: str, bad: int
) -> None:
    with pytest.raises(OverflowError, match=name):
        getattr(world.kinds, f"echo_{name}")(bad)
    assert world.kinds.echo_u32(1) == 1  # the guest never saw it: the instance lives


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("echo_u8", True),
        ("echo_u8", 1.0),
        ("echo_bool", 1),
        ("echo_f64", "1.0"),
        ("echo_char", "ab"),
        ("echo_string", b"x"),
        ("echo_bytes", "x"),
        ("echo_list", (1, "2")),
        ("echo_tuple", (1, "a")),
        ("echo_enum", "red"),
        ("echo_flags", {"read"}),
        ("echo_result", 3),
        ("echo_nested_option", "x"),
        ("echo_shape", 1.0),
        ("echo_nested", object()),
    ],
)
def test_wrong_types_raise_type_error_before_the_guest(world: Any, name: str, bad: Any) -> None:
    with pytest.raises(TypeError):
        getattr(world.kinds, name)(bad)
    assert world.kinds.echo_u32(1) == 1  # the guest never saw it: the instance lives


def test_a_world_class_names_the_first_missing_export(world: Any) -> None:
    from dataflare._wit.filter import Filter
    from dataflare.errors import WorldMismatchError

    cx = world.kinds._cx
    with pytest.raises(WorldMismatchError, match="no exported function 'describe'"):
        Filter(cx.store, cx.instance)
    with pytest.raises(WorldMismatchError, match=r"does not export 'nope:x/y@1\.0\.0'"):
        rt.GuestContext(cx.store, cx.instance).func("nope:x/y@1.0.0", "f")


def test_native_none_means_c_when_built_and_true_without_it_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataflare.abi import c_ext

    assert c_ext.choose(False) is False
    assert rt.HostContext(native=False).native is False
    monkeypatch.setattr(c_ext, "AVAILABLE", False)  # an install without a C compiler
    assert c_ext.choose(None) is False
    with pytest.raises(RuntimeError, match="not built"):
        rt.HostContext(native=True)
