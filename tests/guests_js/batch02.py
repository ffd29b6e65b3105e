"""WIT 0.2 columnar batches written and read by the tests themselves, by the rules of wit/types.wit.

Independent of the host's own adapters on purpose: these tests check the
guest SDK, so a mistake in the host's codec must not hide (or cause) one in
the guest. `decode_*` check every rule a guest's output must keep and fail
the test on a broken one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from itertools import pairwise
from types import ModuleType
from typing import Any

from dataflare.errors import PluginError, plugin_error
from dataflare.model import Record

__all__ = [
    "Row",
    "decode_batch",
    "decode_errors",
    "decode_keep",
    "decode_rows",
    "encode_batch",
    "encode_metadata",
    "encode_rows",
    "error_of",
]


def _is_utf8(item: bytes) -> bool:
    try:
        item.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _column(wit: ModuleType, items: Sequence[bytes | None], force_binary: Collection[int]) -> Any:
    text: list[str] = []
    ends: list[int] = []
    binary: list[tuple[int, bytes]] = []
    absent: list[int] = []
    at = 0
    for i, item in enumerate(items):
        if item is None:
            absent.append(i)
        elif i in force_binary or not _is_utf8(item):
            binary.append((i, item))
        else:
            text.append(item.decode("utf-8"))
            at += len(item)
        ends.append(at)
    return wit.BytesColumn(text="".join(text), ends=ends, binary=binary, absent=absent)


def _strings(wit: ModuleType, items: Sequence[str]) -> Any:
    ends: list[int] = []
    at = 0
    for item in items:
        at += len(item.encode("utf-8"))
        ends.append(at)
    return wit.StringColumn(text="".join(items), ends=ends)


def encode_metadata(wit: ModuleType, pairs: Sequence[Sequence[tuple[str, str]]]) -> Any:
    """Each record's metadata pairs (in record order) as a WIT `metadata-column`."""
    records = [i for i, record in enumerate(pairs) for _ in record]
    names = [name for record in pairs for name, _ in record]
    values = [value for record in pairs for _, value in record]
    return wit.MetadataColumn(
        records=records, names=_strings(wit, names), values=_strings(wit, values)
    )


Row = tuple[bytes | None, bytes, int | None, list[tuple[str, str]]]
"""(key, value, timestamp, metadata pairs): a record whose metadata may repeat a name."""


def encode_rows(wit: ModuleType, rows: Sequence[Row], *, force_binary: Collection[int] = ()) -> Any:
    """`rows` as a WIT `batch`; values at `force_binary` go in `binary` even when UTF-8."""
    keys = [k for k, _, _, _ in rows]
    stamps = [t for _, _, t, _ in rows]
    return wit.Batch(
        values=_column(wit, [v for _, v, _, _ in rows], force_binary),
        keys=_column(wit, keys, ()) if any(k is not None for k in keys) else None,
        timestamps=(
            wit.TimestampColumn(
                values=[t or 0 for t in stamps],
                absent=[i for i, t in enumerate(stamps) if t is None],
            )
            if any(t is not None for t in stamps)
            else None
        ),
        metadata=encode_metadata(wit, [pairs for _, _, _, pairs in rows]),
    )


def encode_batch(
    wit: ModuleType, records: Sequence[Record], *, force_binary: Collection[int] = ()
) -> Any:
    """`records` as a WIT `batch`; values at `force_binary` go in `binary` even when UTF-8."""
    rows = [(r.key, r.value, r.timestamp, list(r.metadata.items())) for r in records]
    return encode_rows(wit, rows, force_binary=force_binary)


def _increasing(indices: Sequence[int], n: int, what: str) -> None:
    assert all(a < b for a, b in pairwise(indices)), (what, indices)
    assert all(0 <= i < n for i in indices), (what, indices, n)


def _spans(text: str, ends: Sequence[int], n: int, what: str) -> list[bytes]:
    """The UTF-8 items `ends` cut `text` into, checking every rule of the WIT."""
    data = text.encode("utf-8")
    ends = list(ends)
    assert len(ends) == n, (what, "one end per item", len(ends), n)
    assert all(a <= b for a, b in pairwise([0, *ends])), (what, "ends", ends)
    assert (ends[-1] if ends else 0) == len(data), (what, "last end", ends, len(data))
    items = [data[s:e] for s, e in zip([0, *ends], ends, strict=False)]
    for item in items:
        item.decode("utf-8")  # each item is UTF-8 on its own: no end inside a character
    return items


def _strings_of(column: Any, n: int, what: str) -> list[str]:
    """The items of a guest-built `string-column` of `n` items."""
    return [item.decode("utf-8") for item in _spans(column.text, column.ends, n, what)]


def _items(column: Any, n: int, what: str) -> list[bytes | None]:
    """The items of a guest-built `bytes-column`, checking every rule of the WIT."""
    ends = list(column.ends)
    starts = [0, *ends][:n]
    items: list[bytes | None] = list(_spans(column.text, ends, n, what))
    _increasing([i for i, _ in column.binary], n, f"{what}.binary")
    _increasing(list(column.absent), n, f"{what}.absent")
    for i, raw in column.binary:
        assert starts[i] == ends[i], (what, "binary span not empty", i)
        items[i] = bytes(raw)
    for i in column.absent:
        assert starts[i] == ends[i], (what, "absent span not empty", i)
        assert i not in {j for j, _ in column.binary}, (what, "binary and absent", i)
        items[i] = None
    return items


def decode_rows(batch: Any) -> list[Row]:
    """The records of a guest-built `batch`, metadata pairs in order with repeats."""
    n = len(batch.values.ends)
    values = _items(batch.values, n, "values")
    assert not batch.values.absent, "a value column has no absent items"
    keys = _items(batch.keys, n, "keys") if batch.keys is not None else [None] * n
    stamps: list[int | None] = [None] * n
    if batch.timestamps is not None:
        assert len(batch.timestamps.values) == n
        _increasing(list(batch.timestamps.absent), n, "timestamps.absent")
        absent = set(batch.timestamps.absent)
        stamps = [None if i in absent else t for i, t in enumerate(batch.timestamps.values)]
    metadata: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    records = list(batch.metadata.records)
    assert records == sorted(records) and all(0 <= i < n for i in records), records
    names = _strings_of(batch.metadata.names, len(records), "metadata.names")
    texts = _strings_of(batch.metadata.values, len(records), "metadata.values")
    for i, name, value in zip(records, names, texts, strict=True):
        metadata[i].append((name, value))
    return [(k, v or b"", t, m) for v, k, t, m in zip(values, keys, stamps, metadata, strict=True)]


def decode_batch(batch: Any) -> list[Record]:
    """The records of a guest-built `batch`."""
    return [
        Record(value=v, key=k, timestamp=t, metadata=dict(m)) for k, v, t, m in decode_rows(batch)
    ]


def error_of(wit_error: Any) -> PluginError:
    """A WIT `plugin-error` (a generated variant class) as the host's PluginError."""
    kind = type(wit_error).__name__.removeprefix("PluginError").lower()
    return plugin_error(kind, wit_error.value)


def decode_errors(errors: Sequence[Any], n: int) -> dict[int, PluginError]:
    """Sparse `record-error`s by index, checking they are in range and unique."""
    indices = [e.index for e in errors]
    assert len(set(indices)) == len(indices) and all(0 <= i < n for i in indices), indices
    return {e.index: error_of(e.error) for e in errors}


def decode_keep(keep: bytes, n: int) -> list[bool]:
    """The filter bitmap, least significant bit first, exactly ceil(n/8) bytes."""
    assert len(keep) == (n + 7) // 8, (len(keep), n)
    return [bool(keep[i // 8] >> (i % 8) & 1) for i in range(n)]
