"""The stock baseline of bench (a): wasmtime-py's own `Func.__call__` on the same values.

DataFlare no longer converts values to wasmtime-py's objects anywhere; this
module does it for the bench only, generically for the generated bindings'
dataclasses (a WIT 0.2 `batch` in, a filter or transform outcome out), so the
fast path is still measured against what it replaced. wasmtime-py reads a
record's fields by their WIT names, which for these types are plain words.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from wasmtime.component import Func
from wasmtime.component import Record as WasmRecord


def lower(x: Any) -> Any:
    """A generated-bindings value as the value wasmtime-py's `Func.__call__` takes."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        out: Any = WasmRecord()
        for f in dataclasses.fields(x):
            setattr(out, f.name, lower(getattr(x, f.name)))
        return out
    if isinstance(x, list):
        return [lower(v) for v in x]
    if isinstance(x, tuple):
        return tuple(lower(v) for v in x)
    return x


def plain(x: Any) -> Any:
    """Either side's result as nested tuples, so the stock and fast answers compare equal."""
    if isinstance(x, WasmRecord):
        return tuple(plain(v) for v in vars(x).values())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return tuple(plain(getattr(x, f.name)) for f in dataclasses.fields(x))
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, str):  # a `text` as `str` on one side, as UTF-8 bytes on the other
        return x.encode()
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(v, int) and not isinstance(v, bool) for v in x):
            return tuple(x)  # a list<u32> (or a list<u8> lifted as ints)
        return tuple(plain(v) for v in x)
    return x


class StockCall:
    """`f(value)`: one call of `func` through wasmtime-py's value conversion."""

    def __init__(self, store: Any, func: Func) -> None:
        self._store = store
        self._func = func

    def __call__(self, arg: Any) -> Any:
        """Lower `arg` to wasmtime-py values, call, and return wasmtime-py's result."""
        return self._func(self._store, lower(arg))
