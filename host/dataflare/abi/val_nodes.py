"""The Python codec path: each codec spec compiled once into value-array closures.

Each WIT type node becomes a `lower(value, addr, arena)` that writes one
`wasmtime_component_val_t` at `addr`, and a `lift(addr)` that reads one.
Values are checked as strictly as `codec` checks them (same exception types,
integer ranges included); every node read checks its kind byte, so a
mismatched component raises `TypeError` instead of reading garbage. This is
the one Python implementation of the fast path: what runs without the C
extension, and the reference the equivalence tests hold the C path to. This
module only dispatches on the spec tag and caches; the nodes live in
`val_scalars`, `val_containers` and `val_variants`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from dataflare.abi.val_containers import _list, _record, _tuple
from dataflare.abi.val_memory import _Lift, _Lower
from dataflare.abi.val_resources import _resource
from dataflare.abi.val_scalars import (
    _bool_lift,
    _bool_lower,
    _bytes_lift,
    _bytes_lower,
    _char_lift,
    _char_lower,
    _float,
    _int,
    _string_lift,
    _string_lower,
    _unit_lift,
    _unit_lower,
    _utf8_lift,
    _utf8_lower,
)
from dataflare.abi.val_variants import _enum, _flags, _option, _result, _variant

__all__ = ["SpecMemo", "compile_spec"]


T = TypeVar("T")


class SpecMemo(Generic[T]):
    """What was compiled for each codec spec object, computed once per spec.

    Keyed by identity, since specs hold classes and closures; each entry keeps
    its spec alive, so an id is never reused for another spec.
    """

    def __init__(self) -> None:
        self._items: dict[int, tuple[tuple[Any, ...], T]] = {}
        self._lock = threading.Lock()

    def get(self, spec: tuple[Any, ...], make: Callable[[tuple[Any, ...]], T]) -> T:
        """`make(spec)`, from the memo when this spec object was seen before."""
        hit = self._items.get(id(spec))
        if hit is not None and hit[0] is spec:
            return hit[1]
        out = make(spec)
        with self._lock:
            self._items[id(spec)] = (spec, out)
        return out


_compiled: SpecMemo[tuple[_Lower, _Lift]] = SpecMemo()


def compile_spec(spec: tuple[Any, ...]) -> tuple[_Lower, _Lift]:
    """The (lower, lift) pair for a codec spec, compiled once per spec object."""
    return _compiled.get(spec, _compile)


def _compile(spec: tuple[Any, ...]) -> tuple[_Lower, _Lift]:
    tag = spec[0]
    out: tuple[_Lower, _Lift]
    if tag == "int":
        out = _int(spec[1], spec[2], spec[3])
    elif tag == "float":
        out = _float(spec[1])
    elif tag == "bool":
        out = (_bool_lower, _bool_lift)
    elif tag == "char":
        out = (_char_lower, _char_lift)
    elif tag == "string":
        out = (_string_lower, _string_lift)
    elif tag == "utf8":
        out = (_utf8_lower, _utf8_lift)
    elif tag == "bytes":
        out = (_bytes_lower, _bytes_lift)
    elif tag == "list":
        out = _list(spec[1])
    elif tag == "tuple":
        out = _tuple(spec[1])
    elif tag == "record":
        out = _record(spec[1], spec[2])
    elif tag == "option":
        out = _option(spec[1], nested=False)
    elif tag == "nested_option":
        out = _option(spec[1], nested=True)
    elif tag == "result":
        out = _result(spec[1], spec[2])
    elif tag == "variant":
        out = _variant(spec[1])
    elif tag == "enum":
        out = _enum(spec[1])
    elif tag == "flags":
        out = _flags(spec[1], spec[2])
    elif tag == "resource":
        out = _resource(spec[1], spec[2], spec[3])
    elif tag == "unit":
        out = (_unit_lower, _unit_lift)
    else:
        raise ValueError(f"unknown codec spec {tag!r}")
    return out
