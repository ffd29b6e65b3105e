"""Arrow batches to WIT 0.2 batches and back: round trips, and every guest mistake refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
from dataflare._wit import types as wit
from dataflare.columns import SCHEMA, from_records, to_records
from dataflare.model import Record
from dataflare.plugins.wit_columns import (
    ContractProblem,
    UnencodableMetadata,
    bitmap_to_keep,
    errors_by_index,
    from_wit_batch,
    from_wit_column,
    to_wit_batch,
    to_wit_column,
    unencodable_rows,
)
from dataflare.plugins.wit_records import to_plugin_error
from hypothesis import given
from hypothesis import strategies as st

# Bytes that are often UTF-8, sometimes split characters, sometimes plain garbage.
pieces = st.one_of(
    st.text(max_size=6).map(lambda t: t.encode("utf-8")),
    st.sampled_from([b"\xc3", b"\xa9", b"\xe2\x82", b"\xac", b"\xff", b"\xf0\x9f\x98\x80"]),
    st.binary(max_size=4),
)
payloads = st.lists(pieces, max_size=4).map(b"".join)
# Metadata-heavy on purpose: many pairs, empty names and values, any script.
meta_text = st.one_of(st.just(""), st.text(max_size=5), st.text("aé\u20ac\U0001f600", max_size=4))
metadata = st.one_of(
    st.dictionaries(meta_text, meta_text, max_size=3),
    st.dictionaries(meta_text, meta_text, min_size=5, max_size=24),
)
records = st.builds(
    Record,
    value=payloads,
    key=st.none() | payloads,
    timestamp=st.none() | st.integers(-(2**63), 2**63 - 1),
    metadata=metadata,
)


@st.composite
def batches(draw: st.DrawFn) -> pa.RecordBatch:
    """A batch of drawn records, often a slice of a bigger one (Arrow offsets not at 0)."""
    recs = draw(st.lists(records, max_size=12))
    batch = from_records(recs)
    start = draw(st.integers(0, len(recs)))
    length = draw(st.integers(0, len(recs) - start))
    return batch.slice(start, length)


@given(batches(), st.booleans())
def test_arrow_to_wit_to_arrow_keeps_every_record(batch: pa.RecordBatch, utf8: bool) -> None:
    wire = to_wit_batch(batch, utf8_bytes=utf8)
    assert isinstance(wire.values.text, memoryview | bytes if utf8 else str)
    back = from_wit_batch(wire, batch.num_rows)
    assert back.schema == SCHEMA
    assert to_records(back) == to_records(batch)


@given(batches())
def test_the_wit_batch_keeps_the_contract_it_asks_of_guests(batch: pa.RecordBatch) -> None:
    wire = to_wit_batch(batch)
    n = batch.num_rows
    for column in (wire.values, wire.keys):
        if column is None:
            continue
        data = bytes(column.text)
        assert len(column.ends) == n
        assert column.ends == sorted(column.ends)
        assert (column.ends[-1] if n else 0) == len(data)
        starts = [0, *column.ends][:n]
        for i, _ in column.binary:
            assert starts[i] == column.ends[i]
        for i in column.absent:
            assert starts[i] == column.ends[i]
        # every span is UTF-8 on its own: offsets fall on character boundaries
        for s, e in zip(starts, column.ends, strict=True):
            data[s:e].decode("utf-8")
    assert wire.values.absent == []
    meta = wire.metadata
    assert meta.records == sorted(meta.records) and all(0 <= i < n for i in meta.records)
    for strings in (meta.names, meta.values):
        data = bytes(strings.text)
        assert len(strings.ends) == len(meta.records)
        assert (strings.ends[-1] if strings.ends else 0) == len(data)
        for s, e in zip([0, *strings.ends], strings.ends, strict=False):
            data[s:e].decode("utf-8")


def test_utf8_values_cross_as_one_text_and_split_characters_go_to_binary() -> None:
    batch = from_records([Record(value=b"a\xc3"), Record(value=b"\xa9b"), Record(value=b"ok")])
    column = to_wit_batch(batch).values
    assert bytes(column.text) == b"ok"
    assert column.binary == [(0, b"a\xc3"), (1, b"\xa9b")]
    assert column.ends == [0, 0, 2]
    clean = to_wit_batch(from_records([Record(value="é".encode()), Record(value=b"x")])).values
    assert (bytes(clean.text), clean.ends, clean.binary) == ("éx".encode(), [2, 3], [])
    as_str = to_wit_batch(batch, utf8_bytes=False).values
    assert (as_str.text, as_str.ends) == ("ok", [0, 0, 2])


def test_the_text_is_a_view_of_the_arrow_buffer_not_a_copy() -> None:
    batch = from_records([Record(value=b"abc"), Record(value=b"de")]).slice(1)
    text = to_wit_batch(batch).values.text
    assert isinstance(text, memoryview) and bytes(text) == b"de"
    assert text.obj.address == batch.column(1).buffers()[2].address  # type: ignore[attr-defined]


def test_absent_keys_and_timestamps_cost_nothing_when_no_record_has_one() -> None:
    wire = to_wit_batch(from_records([Record(value=b"1"), Record(value=b"2")]))
    assert wire.keys is None and wire.timestamps is None and wire.metadata.records == []


def column(text: str, ends: list[int], binary=(), absent=()) -> wit.BytesColumn:
    return wit.BytesColumn(text=text, ends=ends, binary=list(binary), absent=list(absent))


@pytest.mark.parametrize(
    ("col", "message"),
    [
        (column("abc", [1, 2]), "last end offset is 2, but the text has 3 bytes"),
        (column("abc", [2, 1, 3]), "end offsets decrease at record 1 (2 then 1)"),
        (column("abc", [4]), "last end offset is 4, but the text has 3 bytes"),
        (column("x", []), "no records, but a text of 1 bytes"),
        (column("ab", [1, 2], binary=[(0, b"\xff")]), "binary: record 0 also has bytes"),
        (column("ab", [0, 2], binary=[(2, b"\xff")]), "binary: index 2 is out of range"),
        (column("", [0, 0], binary=[(1, b"a"), (0, b"b")]), "not strictly increasing (1 then 0)"),
        (column("", [0, 0], binary=[(1, b"a"), (1, b"b")]), "not strictly increasing (1 then 1)"),
        (column("", [0, 0], absent=[5]), "absent: index 5 is out of range for 2 records"),
        (column("", [0], binary=[(0, b"a")], absent=[0]), "both absent and binary"),
    ],
)
def test_a_broken_column_is_refused_with_what_is_wrong(col: wit.BytesColumn, message: str) -> None:
    with pytest.raises(ContractProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_wit_column(col, "values")


def strings(text: str, ends: list[int]) -> wit.StringColumn:
    return wit.StringColumn(text=text, ends=ends)


def meta(records: list[int], names: str, values: str) -> wit.MetadataColumn:
    """One-character names and values, one per record index."""
    return wit.MetadataColumn(
        records,
        strings(names, list(range(1, len(names) + 1))),
        strings(values, list(range(1, len(values) + 1))),
    )


def good_batch(n: int) -> wit.Batch:
    return to_wit_batch(from_records([Record(value=b"v", key=b"k", timestamp=1)] * n))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, "returned a batch of 3 records for 4 records"),
        ({"keys": column("kk", [1, 2])}, "has 2 keys for 3 records"),
        ({"timestamps": wit.TimestampColumn([1], [])}, "has 1 timestamps for 3 records"),
        ({"timestamps": wit.TimestampColumn([1, 2, 3], [3])}, "index 3 is out of range"),
        ({"metadata": meta([3], "a", "b")}, "record index 3 is out of range for 3 records"),
        (
            {"metadata": meta([1, 0], "ab", "cd")},
            r"records are not in order \(pair 1 is of record 0 after one of record 1\)",
        ),
        (
            {"metadata": wit.MetadataColumn([0, 1], strings("ab", [1, 2]), strings("c", [1]))},
            "metadata: 2 records but 2 names and 1 values",
        ),
        (
            {"metadata": wit.MetadataColumn([0], strings("ab", [1]), strings("c", [1]))},
            "metadata names: the last end offset is 1, but the text has 2 bytes",
        ),
        (
            {
                "metadata": wit.MetadataColumn(
                    [0] * 3, strings("ab", [2, 1, 2]), meta([], "", "cde").values
                )
            },
            r"metadata names: end offsets decrease at item 1 \(2 then 1\)",
        ),
        (
            {"metadata": wit.MetadataColumn([0, 0], strings("a", [0, 1]), strings("é", [1, 2]))},
            "metadata values: end offset 1 of item 0 falls inside a character",
        ),
        (
            {"metadata": wit.MetadataColumn([], strings("a", []), strings("", []))},
            "metadata names: no items, but a text of 1 bytes",
        ),
        ({"values": column("vvv", [1, 2, 3], absent=[0])}, "value column lists absent"),
    ],
)
def test_a_broken_batch_is_refused(change: dict[str, object], message: str) -> None:
    batch = dataclasses.replace(good_batch(3), **change)  # type: ignore[arg-type]
    with pytest.raises(ContractProblem, match=message):
        from_wit_batch(batch, 4 if not change else 3)


@given(st.lists(st.booleans(), max_size=40), st.data())
def test_the_keep_bitmap_is_lsb_first_and_failed_records_are_dropped(
    keep: list[bool], data: st.DataObject
) -> None:
    n = len(keep)
    bitmap = np.packbits(np.array(keep, np.bool_), bitorder="little").tobytes()
    failed = sorted(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)) if n else [])
    got = bitmap_to_keep(bitmap, n, failed).to_pylist()
    assert got == [k and i not in failed for i, k in enumerate(keep)]


@pytest.mark.parametrize(("size", "n"), [(0, 1), (2, 8), (1, 9), (1, 0)])
def test_a_bitmap_of_the_wrong_length_is_refused(size: int, n: int) -> None:
    with pytest.raises(ContractProblem, match=f"has {size} bytes for {n} records"):
        bitmap_to_keep(b"\0" * size, n)


def test_errors_must_be_in_range_and_increasing() -> None:
    err = wit.PluginErrorProcessing("bad")
    got = errors_by_index([wit.RecordError(0, err), wit.RecordError(2, err)], 3, to_plugin_error)
    assert sorted(got) == [0, 2] and got[2].kind == "processing"
    with pytest.raises(ContractProblem, match="errors: index 3 is out of range for 3 records"):
        errors_by_index([wit.RecordError(3, err)], 3, to_plugin_error)
    with pytest.raises(ContractProblem, match="not strictly increasing"):
        errors_by_index([wit.RecordError(1, err), wit.RecordError(1, err)], 3, to_plugin_error)


def test_a_null_key_spanning_bytes_in_arrow_crosses_as_absent_with_an_empty_span() -> None:
    # Arrow lets a null slot keep bytes; WIT needs its span empty.
    keys = pa.Array.from_buffers(
        pa.binary(),
        2,
        [
            pa.py_buffer(bytes([0b10])),
            pa.py_buffer(np.array([0, 3, 4], np.int32)),
            pa.py_buffer(b"xyzk"),
        ],
    )
    col = to_wit_column(keys)
    assert (bytes(col.text), col.ends, col.absent) == (b"k", [0, 1], [0])


@pytest.mark.parametrize("kind", [pa.string(), pa.large_binary(), pa.large_string()])
def test_columns_of_other_byte_types_cross_as_binary(kind: pa.DataType) -> None:
    values = pa.array(["é", None, "ab"], kind).slice(1)
    col = to_wit_column(values)
    assert (bytes(col.text), col.ends, col.absent) == (b"ab", [0, 2], [0])


def test_metadata_crosses_as_three_columns_whose_texts_are_views_of_the_arrow_buffers() -> None:
    recs = [
        Record(b"0", metadata={"a": "1", "é": ""}),
        Record(b"1"),
        Record(b"2", metadata={"": "\U0001f600"}),
    ]
    batch = from_records([Record(b"x", metadata={"skip": "me"}), *recs]).slice(1)
    wire = to_wit_batch(batch).metadata
    assert wire.records == [0, 0, 2]
    assert (bytes(wire.names.text), wire.names.ends) == ("aé".encode(), [1, 3, 3])
    assert (bytes(wire.values.text), wire.values.ends) == ("1😀".encode(), [1, 1, 5])
    assert isinstance(wire.names.text, memoryview)
    keys = batch.column(3).keys.buffers()[2]
    assert wire.names.text.obj.address == keys.address  # type: ignore[attr-defined]
    as_str = to_wit_batch(batch, utf8_bytes=False).metadata
    assert (as_str.names.text, as_str.values.text) == ("aé", "1😀")
    assert to_records(from_wit_batch(wire_batch := to_wit_batch(batch), 3)) == recs
    assert wire_batch.metadata.records == [0, 0, 2]


@given(st.lists(st.booleans(), max_size=8), st.integers(0, 3))
def test_metadata_that_is_not_utf8_is_found_by_record_and_never_sent(
    bad: list[bool], start: int
) -> None:
    # lone surrogates travel surrogatepass-encoded in the Arrow column (`columns`)
    recs = [Record(b"v", metadata={"ok": "é", "m": "\udcff"} if b else {"ok": "é"}) for b in bad]
    batch = from_records(recs).slice(min(start, len(recs)))
    want = [i for i, b in enumerate(bad[min(start, len(recs)) :]) if b]
    assert unencodable_rows(batch) == want
    if want:
        with pytest.raises(UnencodableMetadata, match="a metadata value is not valid UTF-8"):
            to_wit_batch(batch)
    else:
        to_wit_batch(batch)


def test_the_keep_bitmap_of_a_batch_without_failures_is_not_copied() -> None:
    bitmap = bytes([0b101, 0xFF])
    keep = bitmap_to_keep(bitmap, 11)
    assert keep.to_pylist() == [True, False, True] + [False] * 5 + [True] * 3
    assert keep.buffers()[1].address == pa.py_buffer(bitmap).address
