"""Python value-array nodes for lists, tuples and records.

Each element or field is compiled through `val_nodes.compile_spec`.

compile_spec is imported inside each builder because `val_nodes` imports this
module.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from dataflare.abi.val_memory import (
    _HEAD,
    _WORDS,
    ENTRY,
    K_LIST,
    K_RECORD,
    K_TUPLE,
    MEM,
    VAL,
    _Arena,
    _check_kind,
    _Lift,
    _Lower,
    _static,
)
from dataflare.abi.val_scalars import _strings_tuple

__all__ = ["_list", "_record", "_tuple"]


def _list(elem: tuple[Any, ...]) -> tuple[_Lower, _Lift]:
    from dataflare.abi.val_nodes import compile_spec

    el_lower, el_lift = compile_spec(elem)

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, list | tuple):
            raise TypeError(f"list expects list, got {type(v).__name__}")
        n = len(v)
        p = ar.alloc(n * VAL)
        a = p
        for x in v:
            el_lower(x, a, ar)
            a += VAL
        _HEAD.pack_into(MEM, addr, K_LIST, n, p)

    def lift(addr: int) -> Any:
        k, n, p = _HEAD.unpack_from(MEM, addr)
        if k != K_LIST:
            _check_kind(addr, K_LIST, "list")
        return [el_lift(a) for a in range(p, p + n * VAL, VAL)]

    return lower, lift


def _tuple(elems: Sequence[tuple[Any, ...]]) -> tuple[_Lower, _Lift]:
    from dataflare.abi.val_nodes import compile_spec

    parts = [compile_spec(e) for e in elems]
    n = len(parts)
    if all(e[0] == "string" for e in elems):
        return _strings_tuple(n), _tuple_lift(n, tuple(li for _, li in parts))
    lowers = tuple(lo for lo, _ in parts)

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, tuple) or len(v) != n:
            raise TypeError(f"expected a tuple of {n} items, got {v!r}")
        p = ar.alloc(n * VAL)
        a = p
        for lo, x in zip(lowers, v, strict=True):
            lo(x, a, ar)
            a += VAL
        _HEAD.pack_into(MEM, addr, K_TUPLE, n, p)

    return lower, _tuple_lift(n, tuple(li for _, li in parts))


def _tuple_lift(n: int, lifts: tuple[_Lift, ...]) -> _Lift:
    offsets = tuple((i * VAL, li) for i, li in enumerate(lifts))

    def lift(addr: int) -> Any:
        k, size, p = _HEAD.unpack_from(MEM, addr)
        if k != K_TUPLE or size != n:
            raise TypeError(f"guest returned kind {k} (size {size}) where a {n}-tuple was expected")
        return tuple([li(p + off) for off, li in offsets])

    return lift


def _record(cls: type, fields: Sequence[tuple[str, str, tuple[Any, ...]]]) -> tuple[_Lower, _Lift]:
    from dataflare.abi.val_nodes import compile_spec

    n = len(fields)
    # The entries array with every name filled in: one copy per record.
    template = bytearray(n * ENTRY)
    for i, (_, wit, _) in enumerate(fields):
        name = wit.encode()
        _WORDS.pack_into(template, i * ENTRY, len(name), _static(name))
    tpl = bytes(template)
    size = len(tpl)
    plan = tuple(
        (py, i * ENTRY + 16, *compile_spec(spec)) for i, (py, _, spec) in enumerate(fields)
    )
    pys = [py for py, _, _, _ in plan]
    getter: Callable[[Any], Any] = operator.attrgetter(*pys) if pys else (lambda v: ())
    lowers = tuple((off, lo) for _, off, lo, _ in plan)
    lifts = tuple((off, li) for _, off, _, li in plan)

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__name__}, got {type(v).__name__}")
        values = getter(v)
        if n == 1:
            values = (values,)
        p = ar.alloc(size)
        MEM[p : p + size] = tpl
        for (off, lo), x in zip(lowers, values, strict=True):
            lo(x, p + off, ar)
        _HEAD.pack_into(MEM, addr, K_RECORD, n, p)

    def lift(addr: int) -> Any:
        k, count, p = _HEAD.unpack_from(MEM, addr)
        if k != K_RECORD or count != n:
            raise TypeError(
                f"guest returned kind {k} ({count} fields) where record {cls.__name__} was expected"
            )
        return cls(*[li(p + off) for off, li in lifts])

    return lower, lift
