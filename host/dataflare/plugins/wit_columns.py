"""Arrow batches (`dataflare.columns`) to WIT 0.2 `batch` values and back, checked.

Host to guest, each column's data buffer is checked as UTF-8 once (in C,
without making a `str`) and becomes the `text` as is, a view of the Arrow
buffer; its Arrow offsets become `ends` (no per-record work). Values that
are not UTF-8 (looked for only when that one check fails, or when a record
boundary splits a character) travel in `binary`; null keys and timestamps
are listed in `absent`. Metadata goes the same way: the map column's
offsets give each pair's record (`records`), its names' and values' data
buffers and offsets give two `string-column`s, so a batch costs no Python
object per pair. A name or value that is not UTF-8 (a lone surrogate kept
``surrogatepass``-encoded by `columns`) cannot be a WIT `string`:
`unencodable_rows` finds its records, which the adapters fail alone. The
`text` is bytes, for the world classes of `wit_utf8`; `utf8_bytes=False`
gives a `str` for the generated ones.

Guest to host, a `text` (bytes, or a `str` encoded once) becomes the data
buffer of a `BinaryArray` whose offsets are the `ends`. Everything a guest returns
is checked before it is used: `ends` one per record, never decreasing,
ending at the text's length; sparse indices in range and strictly
increasing; metadata `records` never decreasing and in range, one name
and one value per pair, no end inside a character. A violation raises `ContractProblem`,
which the adapters turn into a `GuestContractError` naming the plugin: a
broken guest must never crash the host or shift outcomes onto other records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from dataflare._wit import types as wit
from dataflare.abi.c_ext import utf8_error
from dataflare.columns import METADATA_TYPE, SCHEMA
from dataflare.errors import PluginError

__all__ = [
    "ContractProblem",
    "UnencodableMetadata",
    "as_binary",
    "bitmap_to_keep",
    "errors_by_index",
    "from_wit_batch",
    "from_wit_column",
    "to_wit_batch",
    "to_wit_column",
    "unencodable_rows",
]

_U32_MAX = (1 << 32) - 1
_I32_MAX = (1 << 31) - 1


class ContractProblem(ValueError):
    """What a guest's answer breaks, in words; the adapter adds the plugin's name."""


class UnencodableMetadata(ValueError):
    """A batch's metadata holds a string that is not UTF-8, so it cannot cross as WIT.

    The adapters screen such records out first (`unencodable_rows`) and fail
    them alone; this is raised only when a caller did not.
    """


# ---------------------------------------------------------------- Arrow -> WIT


def to_wit_batch(batch: pa.RecordBatch, *, utf8_bytes: bool = True) -> wit.Batch:
    """`batch` (schema `columns.SCHEMA`) as a WIT `batch`.

    Keys, timestamps and metadata that no record has cost nothing: `none`
    and an empty list. Each `text` is UTF-8 bytes (a view of the Arrow
    buffer) unless `utf8_bytes` is False, when it is a `str`.
    """
    keys = batch.column(0)
    stamps = batch.column(2)
    n = batch.num_rows
    return wit.Batch(
        values=to_wit_column(batch.column(1), utf8_bytes=utf8_bytes),
        keys=None if keys.null_count == n else to_wit_column(keys, utf8_bytes=utf8_bytes),
        timestamps=None if stamps.null_count == n else _to_wit_timestamps(stamps),
        metadata=_to_wit_metadata(batch.column(3), utf8_bytes=utf8_bytes),
    )


def to_wit_column(array: pa.Array[Any], *, utf8_bytes: bool = True) -> wit.BytesColumn:
    """A binary Arrow array (any slice of one) as a WIT `bytes-column`; nulls are `absent`.

    `text` is UTF-8 bytes (a view, not a copy), or a `str` if not `utf8_bytes`.
    """
    array = as_binary(array)
    absent: list[int] = []
    if array.null_count:
        absent = np.flatnonzero(~_valid(array)).tolist()
        # A null slot may span bytes in Arrow; in WIT its span must be empty.
        array = array.fill_null(b"")
    offsets, data = _offsets_and_data(array)
    base = int(offsets[0])
    ends = offsets[1:] - base
    if len(data) and (utf8_error(data) >= 0 or not _on_char_boundaries(data, ends)):
        column = _mixed_column(array, absent)
    else:
        column = wit.BytesColumn(text=data, ends=ends.tolist(), binary=[], absent=absent)  # type: ignore[arg-type]
    if not utf8_bytes:
        raw: Any = column.text
        column = dataclasses.replace(column, text=str(raw, "utf-8"))
    return column


def as_binary(array: pa.Array[Any]) -> pa.Array[Any]:
    """`array` as `binary` (int32 offsets): a `string` column is cast without a copy,
    a `large_binary` or `large_string` one with its offsets narrowed."""
    return array if array.type == pa.binary() else array.cast(pa.binary())


def _offsets_and_data(array: pa.Array[Any]) -> tuple[np.ndarray[Any, Any], memoryview]:
    """The int32 offsets of `array`'s records (n + 1) and its data bytes they index."""
    n = len(array)
    bufs = array.buffers()
    offsets = np.frombuffer(bufs[1], np.int32, n + 1, array.offset * 4)
    data = bufs[2]
    view = memoryview(data if data is not None else b"")
    return offsets, view[int(offsets[0]) : int(offsets[-1])]


def _on_char_boundaries(data: memoryview, ends: np.ndarray[Any, Any]) -> bool:
    """Whether no item boundary falls inside a multi-byte character.

    The whole text decoded, so only a boundary can be wrong: an item that
    ends with the first bytes of a character the next item finishes.
    """
    return _first_split(data, ends) < 0


def _first_split(data: Any, ends: np.ndarray[Any, Any]) -> int:
    """The first item whose end falls inside a character of `data`, or -1.

    `ends` must never decrease (Arrow offsets, or guest ends already checked).
    """
    raw = np.frombuffer(data, np.uint8)
    # Ends at the text's end (trailing empty items) have no byte after them.
    inner = ends[: int(np.searchsorted(ends, len(raw)))]
    split = (raw[inner] & 0xC0) == 0x80
    return int(np.argmax(split)) if bool(split.any()) else -1


def _mixed_column(array: pa.Array[Any], absent: list[int]) -> wit.BytesColumn:
    """The failure path: UTF-8 records in `text`, the others in `binary`, by index."""
    parts: list[bytes] = []
    ends: list[int] = []
    binary: list[tuple[int, bytes]] = []
    end = 0
    for i, item in enumerate(array.to_pylist()):
        raw = item or b""
        if utf8_error(raw) >= 0:
            binary.append((i, raw))
        else:
            parts.append(raw)
            end += len(raw)
        ends.append(end)
    text = b"".join(parts)
    return wit.BytesColumn(text=text, ends=ends, binary=binary, absent=absent)  # type: ignore[arg-type]


def _to_wit_timestamps(array: pa.Array[Any]) -> wit.TimestampColumn:
    absent = np.flatnonzero(~_valid(array)).tolist() if array.null_count else []
    values = array.fill_null(0) if array.null_count else array
    return wit.TimestampColumn(values=values.to_numpy(zero_copy_only=False).tolist(), absent=absent)


def _to_wit_metadata(array: pa.MapArray, *, utf8_bytes: bool) -> wit.MetadataColumn:
    """The map column as a `metadata-column`, from its buffers: no Python object per pair.

    Raises `UnencodableMetadata` when a name or value is not UTF-8 (a string
    kept ``surrogatepass``-encoded by `columns.from_records`): screen such
    records out first (`unencodable_rows`).
    """
    n = len(array)
    offsets = np.frombuffer(array.buffers()[1], np.int32, n + 1, array.offset * 4)
    first, last = int(offsets[0]), int(offsets[-1])
    if first == last:  # the common case: no record has metadata
        return _empty_metadata(utf8_bytes)
    records = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets)).tolist()
    names = _to_wit_strings(array.keys[first:last], "name", utf8_bytes=utf8_bytes)
    values = _to_wit_strings(array.items[first:last], "value", utf8_bytes=utf8_bytes)
    return wit.MetadataColumn(records=records, names=names, values=values)


def _empty_metadata(utf8_bytes: bool) -> wit.MetadataColumn:
    text: Any = b"" if utf8_bytes else ""
    return wit.MetadataColumn(
        records=[], names=wit.StringColumn(text, []), values=wit.StringColumn(text, [])
    )


def _to_wit_strings(array: pa.Array[Any], what: str, *, utf8_bytes: bool) -> wit.StringColumn:
    """A string Arrow array as a `string-column`: its data buffer is the `text` (a view)."""
    offsets, data = _offsets_and_data(_string_bytes(array))
    ends = offsets[1:] - offsets[0]
    if len(data) and (utf8_error(data) >= 0 or not _on_char_boundaries(data, ends)):
        raise UnencodableMetadata(f"a metadata {what} is not valid UTF-8")
    text: Any = data if utf8_bytes else str(data, "utf-8")
    return wit.StringColumn(text=text, ends=ends.tolist())


def _string_bytes(array: pa.Array[Any]) -> pa.Array[Any]:
    """A string array's bytes as a binary array, without a copy.

    A null becomes "" (`columns` never makes one, but Arrow allows it).
    """
    if array.null_count:
        array = array.fill_null("")
    return array.view(pa.binary()) if array.type == pa.string() else as_binary(array)


def unencodable_rows(batch: pa.RecordBatch) -> list[int]:
    """The rows of `batch` whose metadata a WIT `string` cannot carry (not UTF-8).

    One C-speed check of the names' and the values' bytes; rows are looked
    at one by one only when it fails (lone surrogates are rare).
    """
    maps = batch.column(3)
    offsets = np.frombuffer(maps.buffers()[1], np.int32, len(maps) + 1, maps.offset * 4)
    first, last = int(offsets[0]), int(offsets[-1])
    if first == last:
        return []
    bad = np.zeros(last - first, np.bool_)
    for child in (maps.keys[first:last], maps.items[first:last]):
        strings = _string_bytes(child)
        offs, data = _offsets_and_data(strings)
        if not len(data) or (
            utf8_error(data) < 0 and _on_char_boundaries(data, offs[1:] - offs[0])
        ):
            continue
        for i, item in enumerate(strings.to_pylist()):
            if utf8_error(item) >= 0:
                bad[i] = True
    if not bad.any():
        return []
    rows = np.repeat(np.arange(len(maps)), np.diff(offsets))
    return sorted(set(rows[bad].tolist()))


def _valid(array: pa.Array[Any]) -> np.ndarray[Any, Any]:
    """One bool per record of `array`: True where it is not null."""
    return array.is_valid().to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- WIT -> Arrow


def from_wit_batch(batch: wit.Batch, records: int | None = None) -> pa.RecordBatch:
    """A guest's WIT `batch` as an Arrow batch (schema `SCHEMA`), checked.

    `records`, when given, is how many records the batch must hold.
    """
    n = len(batch.values.ends)
    if records is not None and n != records:
        raise ContractProblem(f"returned a batch of {n} records for {records} records")
    if batch.values.absent:
        raise ContractProblem("a value column lists absent records (values are never absent)")
    values = from_wit_column(batch.values, "values")
    if batch.keys is None:
        keys = pa.nulls(n, pa.binary())
    else:
        if len(batch.keys.ends) != n:
            raise ContractProblem(f"has {len(batch.keys.ends)} keys for {n} records")
        keys = from_wit_column(batch.keys, "keys")
    stamps = (
        pa.nulls(n, pa.int64())
        if batch.timestamps is None
        else _from_wit_timestamps(batch.timestamps, n)
    )
    metadata = _from_wit_metadata(batch.metadata, n)
    return pa.RecordBatch.from_arrays([keys, values, stamps, metadata], schema=SCHEMA)


def _text_and_offsets(column: Any, what: str, unit: str) -> tuple[Any, np.ndarray[Any, Any]]:
    """A guest column's text as bytes and its ends as Arrow offsets (0 first), checked.

    The last end must be the text's length, ends must never decrease, and the
    text must fit Arrow's 32-bit offsets; `unit` names an entry ("record",
    "item") in the messages. Its `text` may be bytes (`wit_utf8` classes) or a
    `str` (generated classes).
    """
    text: Any = column.text
    data = text.encode("utf-8") if isinstance(text, str) else text
    ends = np.asarray(column.ends, np.int64) if column.ends else np.zeros(0, np.int64)
    n = len(ends)
    if n:
        if ends[-1] != len(data):
            raise ContractProblem(
                f"{what}: the last end offset is {int(ends[-1])}, but the text has"
                f" {len(data)} bytes"
            )
        if n > 1 and bool(np.any(ends[1:] < ends[:-1])):
            at = int(np.argmax(ends[1:] < ends[:-1])) + 1
            raise ContractProblem(
                f"{what}: end offsets decrease at {unit} {at} ({int(ends[at - 1])} then"
                f" {int(ends[at])})"
            )
    elif data:
        raise ContractProblem(f"{what}: no {unit}s, but a text of {len(data)} bytes")
    if len(data) > _I32_MAX:
        raise ContractProblem(f"{what}: a text of {len(data)} bytes is over 2 GiB")
    offsets = np.empty(n + 1, np.int32)
    offsets[0] = 0
    offsets[1:] = ends
    return data, offsets


def from_wit_column(column: wit.BytesColumn, what: str = "column") -> pa.Array[Any]:
    """A WIT `bytes-column` as a binary Arrow array (absent records are null), checked.

    Its `text` may be bytes (`wit_utf8` classes) or a `str` (generated classes).
    """
    data, offsets = _text_and_offsets(column, what, "record")
    n = len(offsets) - 1
    binary = column.binary
    absent = column.absent
    if binary:
        _check_indices([i for i, _ in binary], n, f"{what}: binary")
        _check_empty_spans(offsets, [i for i, _ in binary], f"{what}: binary")
    validity = None
    nulls = 0
    if absent:
        _check_indices(absent, n, f"{what}: absent")
        _check_empty_spans(offsets, absent, f"{what}: absent")
        if binary and set(absent) & {i for i, _ in binary}:
            raise ContractProblem(f"{what}: a record is both absent and binary")
        mask = np.ones(n, np.bool_)
        mask[absent] = False
        validity = pa.py_buffer(np.packbits(mask, bitorder="little").tobytes())
        nulls = len(absent)
    array: pa.Array[Any] = pa.Array.from_buffers(
        pa.binary(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)], nulls
    )
    if binary:  # rare: rebuild with the items that are not UTF-8 in their places
        items = array.to_pylist()
        for i, raw in binary:
            items[i] = raw
        array = pa.array(items, pa.binary())
    return array


def _check_indices(indices: Sequence[int], n: int, what: str) -> None:
    """`indices` strictly increasing, each below `n`."""
    if not indices:
        return
    idx = np.asarray(indices, np.int64)
    if int(idx[-1]) >= n or int(idx.max()) >= n:
        raise ContractProblem(f"{what}: index {int(idx.max())} is out of range for {n} records")
    if len(idx) > 1 and bool(np.any(idx[1:] <= idx[:-1])):
        at = int(np.argmax(idx[1:] <= idx[:-1])) + 1
        raise ContractProblem(
            f"{what}: indices are not strictly increasing ({int(idx[at - 1])} then {int(idx[at])})"
        )


def _check_empty_spans(offsets: np.ndarray[Any, Any], indices: Sequence[int], what: str) -> None:
    idx = np.asarray(indices, np.int64)
    spans = offsets[idx + 1] - offsets[idx]
    if bool(np.any(spans != 0)):
        at = int(idx[int(np.argmax(spans != 0))])
        raise ContractProblem(f"{what}: record {at} also has bytes in the text")


def _from_wit_timestamps(column: wit.TimestampColumn, n: int) -> pa.Array[Any]:
    if len(column.values) != n:
        raise ContractProblem(f"has {len(column.values)} timestamps for {n} records")
    values = np.asarray(column.values, np.int64) if n else np.zeros(0, np.int64)
    if not column.absent:
        return pa.array(values, pa.int64())
    _check_indices(column.absent, n, "timestamps: absent")
    mask = np.zeros(n, np.bool_)
    mask[column.absent] = True
    return pa.array(values, pa.int64(), mask=mask)


def _from_wit_metadata(column: wit.MetadataColumn, n: int) -> pa.Array[Any]:
    """A guest's `metadata-column` as the map column of `n` records, checked."""
    records = column.records
    pairs = len(records)
    if len(column.names.ends) != pairs or len(column.values.ends) != pairs:
        raise ContractProblem(
            f"metadata: {pairs} records but {len(column.names.ends)} names and"
            f" {len(column.values.ends)} values (one each per pair)"
        )
    if not pairs:
        names = _from_wit_strings(column.names, "metadata names")
        values = _from_wit_strings(column.values, "metadata values")
        return pa.MapArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), names, values)
    index = np.asarray(records, np.int64)
    if int(index.max()) >= n:
        raise ContractProblem(
            f"metadata: record index {int(index.max())} is out of range for {n} records"
        )
    if pairs > 1 and bool(np.any(index[1:] < index[:-1])):
        at = int(np.argmax(index[1:] < index[:-1])) + 1
        raise ContractProblem(
            f"metadata: records are not in order (pair {at} is of record {int(index[at])}"
            f" after one of record {int(index[at - 1])})"
        )
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(index, minlength=n), out=offsets[1:])
    names = _from_wit_strings(column.names, "metadata names")
    values = _from_wit_strings(column.values, "metadata values")
    out = pa.MapArray.from_arrays(pa.array(offsets), names, values)
    assert out.type == METADATA_TYPE
    return out


def _from_wit_strings(column: wit.StringColumn, what: str) -> pa.Array[Any]:
    """A `string-column` as a string Arrow array over its text (bytes kept as they came), checked.

    The text is UTF-8 (wasmtime checked it), so only the ends can be wrong:
    out of order, past the text, or inside a character.
    """
    data, offsets = _text_and_offsets(column, what, "item")
    m = len(offsets) - 1
    at = _first_split(data, offsets[1:])
    if at >= 0:
        raise ContractProblem(
            f"{what}: end offset {int(offsets[at + 1])} of item {at} falls inside a character"
        )
    return pa.Array.from_buffers(pa.string(), m, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


# ---------------------------------------------------------------- outcomes


def bitmap_to_keep(keep: bytes, n: int, failed: Sequence[int] = ()) -> pa.BooleanArray:
    """A filter's `keep` bitmap (LSB first) as one bool per record, false at `failed`.

    Arrow booleans are the same LSB-first bitmap, so with no failed record
    the guest's bytes are the array's data buffer as they are (bits past `n`
    are padding Arrow ignores).
    """
    if len(keep) != (n + 7) // 8:
        raise ContractProblem(
            f"the keep bitmap has {len(keep)} bytes for {n} records (needs {(n + 7) // 8})"
        )
    if not failed:
        return pa.BooleanArray.from_buffers(pa.bool_(), n, [None, pa.py_buffer(keep)])
    bits = np.unpackbits(np.frombuffer(keep, np.uint8), count=n, bitorder="little").view(np.bool_)
    bits[list(failed)] = False  # unpackbits made a new array: ours to change
    return pa.array(bits, pa.bool_())


def errors_by_index(
    errors: Sequence[wit.RecordError], n: int, convert: Any
) -> Mapping[int, PluginError]:
    """A guest's sparse `record-error`s, checked, as {index: `convert(error)`}."""
    if not errors:
        return {}
    indices = [e.index for e in errors]
    _check_indices(indices, n, "errors")
    return {e.index: convert(e.error) for e in errors}
