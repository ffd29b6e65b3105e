"""0.2 columnar batches as the checks see them: records encoded in, results decoded strictly.

Inputs are encoded exactly as `wit/types.wit` documents (UTF-8 items in one
`text`, byte `ends`, non-UTF-8 items in `binary`, key-less records in
`absent`). What a guest returns is decoded against every rule of that file
the host relies on; a broken rule raises `BatchProblem`, whose message names
the field, the record and what was expected, because that message is what a
plugin author reads in the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dataflare._wit import types as wit
from dataflare._wit.types import Record

__all__ = ["BatchProblem", "decode_batch", "decode_errors", "decode_keep", "encode_batch"]


class BatchProblem(ValueError):
    """A columnar result breaks a rule of the WIT; the message says which and where."""


def _column(items: Sequence[bytes | None]) -> wit.BytesColumn:
    text: list[str] = []
    ends: list[int] = []
    binary: list[tuple[int, bytes]] = []
    absent: list[int] = []
    end = 0
    for index, item in enumerate(items):
        if item is None:
            absent.append(index)
        else:
            try:
                text.append(item.decode("utf-8"))
                end += len(item)
            except UnicodeDecodeError:
                binary.append((index, item))
        ends.append(end)
    return wit.BytesColumn("".join(text), ends, binary, absent)


def encode_batch(records: Sequence[Record]) -> wit.Batch:
    """`records` as one columnar batch, in the shape the WIT documents."""
    keys = [r.key for r in records]
    stamps = [r.timestamp for r in records]
    return wit.Batch(
        values=_column([r.value for r in records]),
        keys=_column(keys) if any(k is not None for k in keys) else None,
        timestamps=(
            wit.TimestampColumn(
                [0 if t is None else t for t in stamps],
                [i for i, t in enumerate(stamps) if t is None],
            )
            if any(t is not None for t in stamps)
            else None
        ),
        metadata=_metadata([(i, pair) for i, r in enumerate(records) for pair in r.metadata]),
    )


def _strings(items: Sequence[str]) -> wit.StringColumn:
    ends: list[int] = []
    end = 0
    for item in items:
        end += len(item.encode("utf-8"))
        ends.append(end)
    return wit.StringColumn("".join(items), ends)


def _metadata(pairs: Sequence[tuple[int, tuple[str, str]]]) -> wit.MetadataColumn:
    """Every (record, (name, value)) pair, in record order, as a `metadata-column`."""
    return wit.MetadataColumn(
        [index for index, _ in pairs],
        _strings([name for _, (name, _) in pairs]),
        _strings([value for _, (_, value) in pairs]),
    )


def _indices(name: str, indices: Iterable[int], count: int) -> list[int]:
    """`indices` checked to be strictly increasing record positions below `count`."""
    seen: list[int] = []
    for index in indices:
        if not 0 <= index < count:
            raise BatchProblem(f"{name} names record {index}, but the batch has {count} record(s)")
        if seen and index <= seen[-1]:
            raise BatchProblem(
                f"{name} indices must be strictly increasing, but {index} follows {seen[-1]}"
            )
        seen.append(index)
    return seen


def _decode_column(name: str, column: Any, count: int, *, values: bool) -> list[bytes | None]:
    raw = column.text
    # Lifted from a guest, text is a str; the host may also hold it as UTF-8 bytes.
    text = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    ends: list[int] = list(column.ends)
    if len(ends) != count:
        raise BatchProblem(f"{name}.ends has {len(ends)} entries for {count} record(s)")
    start = 0
    for index, end in enumerate(ends):
        if end < start:
            raise BatchProblem(
                f"{name}.ends decreases at record {index}: {end} after {start} (ends are"
                " cumulative UTF-8 byte offsets, never decreasing)"
            )
        if end > len(text):
            raise BatchProblem(
                f"{name}.ends[{index}] = {end} is past the end of {name}.text"
                f" ({len(text)} UTF-8 bytes)"
            )
        start = end
    if start != len(text):
        raise BatchProblem(
            f"the last of {name}.ends is {start}, but {name}.text holds {len(text)} UTF-8 bytes"
            " (ends count UTF-8 bytes, not characters)"
        )
    items: list[bytes | None] = [text[lo:hi] for lo, hi in zip([0, *ends], ends, strict=False)]
    binary = list(column.binary)
    for index in _indices(f"{name}.binary", (i for i, _ in binary), count):
        if items[index]:
            raise BatchProblem(
                f"record {index} is in {name}.binary but its span of text is not empty"
            )
    absent = _indices(f"{name}.absent", column.absent, count)
    if values and absent:
        raise BatchProblem(f"{name}.absent must be empty (every record has a value): {absent}")
    for index in absent:
        if items[index]:
            raise BatchProblem(
                f"record {index} is in {name}.absent but its span of text is not empty"
            )
        if any(i == index for i, _ in binary):
            raise BatchProblem(f"record {index} is in both {name}.binary and {name}.absent")
        items[index] = None
    for index, data in binary:
        items[index] = bytes(data)
    return items


def _decode_strings(name: str, column: Any, count: int) -> list[str]:
    """A `string-column` of `count` items, checked (ends as in a bytes column, on characters)."""
    raw = column.text
    text = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    ends: list[int] = list(column.ends)
    if len(ends) != count:
        raise BatchProblem(
            f"{name}.ends has {len(ends)} entries for {count} metadata pair(s)"
            " (metadata.records has one entry per pair)"
        )
    items: list[str] = []
    start = 0
    for index, end in enumerate(ends):
        if end < start:
            raise BatchProblem(
                f"{name}.ends decreases at item {index}: {end} after {start} (ends are"
                " cumulative UTF-8 byte offsets, never decreasing)"
            )
        if end > len(text):
            raise BatchProblem(
                f"{name}.ends[{index}] = {end} is past the end of {name}.text"
                f" ({len(text)} UTF-8 bytes)"
            )
        try:
            items.append(text[start:end].decode("utf-8"))
        except UnicodeDecodeError:
            raise BatchProblem(
                f"{name}.ends[{index}] = {end} falls inside a character (ends count UTF-8"
                " bytes and fall between characters)"
            ) from None
        start = end
    if start != len(text):
        raise BatchProblem(
            f"the last of {name}.ends is {start}, but {name}.text holds {len(text)} UTF-8 bytes"
            " (ends count UTF-8 bytes, not characters)"
        )
    return items


def decode_batch(batch: Any, count: int | None = None) -> list[Record]:
    """The records of a guest's `batch`, checked; `count` is how many it must hold, if known."""
    size = len(batch.values.ends) if count is None else count
    values = _decode_column("values", batch.values, size, values=True)
    keys: list[bytes | None] = [None] * size
    if batch.keys is not None:
        keys = _decode_column("keys", batch.keys, size, values=False)
    stamps: list[int | None] = [None] * size
    if batch.timestamps is not None:
        given = list(batch.timestamps.values)
        if len(given) != size:
            raise BatchProblem(f"timestamps.values has {len(given)} entries for {size} record(s)")
        stamps = list(given)
        for index in _indices("timestamps.absent", batch.timestamps.absent, size):
            stamps[index] = None
    metadata: list[list[tuple[str, str]]] = [[] for _ in range(size)]
    column = batch.metadata
    owners = list(column.records)
    names = _decode_strings("metadata.names", column.names, len(owners))
    texts = _decode_strings("metadata.values", column.values, len(owners))
    last = 0
    for pair, index in enumerate(owners):
        if not 0 <= index < size:
            raise BatchProblem(
                f"metadata.records[{pair}] names record {index}, but the batch has {size} record(s)"
            )
        if index < last:
            raise BatchProblem(
                f"metadata.records must never decrease (pairs are in record order), but"
                f" {index} follows {last} at pair {pair}"
            )
        last = index
        metadata[index].append((names[pair], texts[pair]))
    return [
        Record(key, value or b"", stamp, meta)
        for key, value, stamp, meta in zip(keys, values, stamps, metadata, strict=True)
    ]


def decode_keep(keep: bytes, count: int) -> list[bool]:
    """A filter's keep bitmap (LSB first), checked to hold one bit per record."""
    need = (count + 7) // 8
    if len(keep) != need:
        raise BatchProblem(
            f"keep has {len(keep)} byte(s) for {count} record(s); one bit per record needs {need}"
        )
    return [bool(keep[i // 8] >> (i % 8) & 1) for i in range(count)]


def decode_errors(errors: Iterable[Any], count: int) -> dict[int, Any]:
    """Sparse record errors by index, checked: each names a record of the batch, once."""
    found: dict[int, Any] = {}
    for item in errors:
        if not 0 <= item.index < count:
            raise BatchProblem(
                f"an error names record {item.index}, but the batch has {count} record(s)"
            )
        if item.index in found:
            raise BatchProblem(f"record {item.index} has more than one error")
        found[item.index] = item.error
    return found
