"""The stock baseline of bench (a): wasmtime-py's own `Func.__call__` on the same records.

DataFlare no longer converts values to wasmtime-py's objects anywhere; this
module does it for the bench only, for the one WIT type the bench sends
(`list<record>`, answered by `list<result<record|bool, plugin-error>>`), so
the fast path is still measured against what it replaced.
"""

from __future__ import annotations

from typing import Any

from dataflare._wit_v0_1 import types as wit
from dataflare.abi import rt
from wasmtime.component import Func
from wasmtime.component import Record as WasmRecord


def _lower(r: wit.Record) -> Any:
    out: Any = WasmRecord()
    out.key, out.value, out.timestamp = r.key, r.value, r.timestamp
    out.metadata = list(r.metadata)
    return out


def _lift(x: Any) -> Any:
    if isinstance(x, WasmRecord):
        f = vars(x)
        return rt.Ok(wit.Record(f["key"], f["value"], f["timestamp"], [*map(tuple, f["metadata"])]))
    if isinstance(x, bool):
        return rt.Ok(x)
    return rt.Err(x)


class StockCall:
    """`f(records)`: one call of `func` through wasmtime-py's value conversion."""

    def __init__(self, store: Any, func: Func) -> None:
        self._store = store
        self._func = func

    def __call__(self, records: list[wit.Record]) -> list[Any]:
        """Lower `records` to wasmtime-py values, call, lift the results."""
        raw = self._func(self._store, [_lower(r) for r in records])
        return [_lift(x) for x in raw]
