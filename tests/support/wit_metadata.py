"""The WIT 0.2 `metadata-column`, encoded and decoded by the tests' own reference code.

Written from `wit/types.wit`, apart from the host's converters
(`dataflare.plugins.wit_columns`) and every guest SDK, so a test that
compares them against it checks them against the WIT, not against each
other. Works with any generated bindings module (`types`) of the 0.2 WIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from types import ModuleType
from typing import Any

Pair = tuple[int, str, str]
"""(record index, name, value) of one metadata pair."""


def _strings(types: ModuleType, items: Sequence[str]) -> Any:
    ends: list[int] = []
    end = 0
    for item in items:
        end += len(item.encode("utf-8"))
        ends.append(end)
    return types.StringColumn("".join(items), ends)


def encode(types: ModuleType, pairs: Sequence[Pair]) -> Any:
    """Pairs (in record order) as a `metadata-column` of the bindings `types`."""
    return types.MetadataColumn(
        [i for i, _, _ in pairs],
        _strings(types, [name for _, name, _ in pairs]),
        _strings(types, [value for _, _, value in pairs]),
    )


def encode_records(types: ModuleType, metadata: Sequence[Sequence[tuple[str, str]]]) -> Any:
    """One list of (name, value) pairs per record as a `metadata-column`."""
    return encode(types, [(i, k, v) for i, pairs in enumerate(metadata) for k, v in pairs])


def _items(column: Any, count: int, what: str) -> list[str]:
    raw = column.text
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    ends = list(column.ends)
    assert len(ends) == count, (what, "one end per pair", len(ends), count)
    assert all(a <= b for a, b in pairwise([0, *ends])), (what, "ends", ends)
    assert (ends[-1] if ends else 0) == len(data), (what, "last end", ends, len(data))
    # decode() fails on an end inside a character
    return [data[s:e].decode("utf-8") for s, e in zip([0, *ends], ends, strict=False)]


def decode(column: Any, n: int) -> list[list[tuple[str, str]]]:
    """A `metadata-column` of a batch of `n` records as each record's pairs, checked."""
    records = list(column.records)
    assert records == sorted(records) and all(0 <= i < n for i in records), (records, n)
    names = _items(column.names, len(records), "names")
    values = _items(column.values, len(records), "values")
    out: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    for i, name, value in zip(records, names, values, strict=True):
        out[i].append((name, value))
    return out
