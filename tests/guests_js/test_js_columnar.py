"""The JS SDK's columnar batches (host/dataflare/sdk/js/batch.js), through real components.

What the twin checks in test_js_examples.py do not reach: malformed batches
(every record fails with a plugin-error, the guest never traps), keys,
timestamps and metadata (repeats and order) carried through `transform-batch`
exactly as `transform` carries them, binary keys, a leading U+FEFF, and
batches longer than one bitmap byte.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from dataflare.errors import PluginError, SerializationError
from dataflare.model import Record
from guests_js.batch02 import (
    Row,
    decode_errors,
    decode_keep,
    decode_rows,
    encode_batch,
    encode_metadata,
    encode_rows,
)
from guests_js.guest02 import Guest02, bindings, result
from guests_rust.strategies import INT64, json_objects, metadata, record_values
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.guests import built_guest

ACTIVE = b'{"status": "active", "email": "ann@x"}'


@pytest.fixture(scope="module")
def paths():
    return {n: built_guest("js", n) for n in ("json_filter", "mask_email")}


def _filter(paths: Any) -> Guest02:
    guest = Guest02(paths["json_filter"], "filter")
    guest.configure({"field": "status", "value": "active"})
    return guest


def _transform(paths: Any) -> Guest02:
    guest = Guest02(paths["mask_email"], "transform")
    guest.configure({"field": "email"})
    return guest


def _column(text: str, ends: list[int], **extra: Any) -> Any:
    fields = {"binary": [], "absent": [], **extra}
    return bindings("types").BytesColumn(text=text, ends=ends, **fields)


def _batch(values: Any, **extra: Any) -> Any:
    wit = bindings("types")
    n = len(values.ends)
    fields = {"keys": None, "timestamps": None, "metadata": encode_metadata(wit, [[]] * n), **extra}
    return wit.Batch(values=values, **fields)


def _metadata(
    records: list[int], names: tuple[str, list[int]], values: tuple[str, list[int]]
) -> Any:
    """A `metadata-column` exactly as given, right or wrong: (text, ends) per string column."""
    wit = bindings("types")
    return wit.MetadataColumn(
        records=records,
        names=wit.StringColumn(text=names[0], ends=names[1]),
        values=wit.StringColumn(text=values[0], ends=values[1]),
    )


def _malformed() -> dict[str, Any]:
    wit = bindings("types")
    good = encode_batch(wit, [Record(value=ACTIVE), Record(value=b'{"s": "\xc3\xa9"}')])
    text = good.values.text
    size = len(text.encode())
    return {
        "an end past the text": _batch(_column(text, [10, size + 1])),
        "decreasing ends": _batch(_column(text, [20, 10])),
        "ends short of the text": _batch(_column(text, [10, size - 1])),
        # text ends with 'é"}': cut between the two bytes of 'é'.
        "an end inside a UTF-8 character": _batch(_column(text, [size - 3, size])),
        # 'é' is 2 bytes but 1 UTF-16 unit: ends counted in units are short.
        "ends in UTF-16 units": _batch(_column(text, [len(ACTIVE), len(text)])),
        "a binary record with a span": _batch(
            dataclasses.replace(good.values, binary=[(0, b"\xff")])
        ),
        "binary out of order": _batch(_column("", [0, 0], binary=[(1, b"\xff"), (0, b"\xfe")])),
        "an absent value": _batch(_column("", [0, 0], absent=[1])),
        "keys of another length": _batch(good.values, keys=_column("k", [1])),
        "timestamps of another length": _batch(
            good.values, timestamps=wit.TimestampColumn(values=[1], absent=[])
        ),
        "metadata past the batch": _batch(
            good.values, metadata=_metadata([2], ("a", [1]), ("b", [1]))
        ),
        "metadata records decreasing": _batch(
            good.values, metadata=_metadata([1, 0], ("ab", [1, 2]), ("cd", [1, 2]))
        ),
        "fewer metadata names than pairs": _batch(
            good.values, metadata=_metadata([0, 1], ("a", [1]), ("cd", [1, 2]))
        ),
        "more metadata values than pairs": _batch(
            good.values, metadata=_metadata([0], ("a", [1]), ("cd", [1, 2]))
        ),
        "metadata names past their text": _batch(
            good.values, metadata=_metadata([0], ("a", [2]), ("c", [1]))
        ),
        "metadata values short of their text": _batch(
            good.values, metadata=_metadata([0], ("a", [1]), ("cd", [1]))
        ),
        "metadata name ends decreasing": _batch(
            good.values, metadata=_metadata([0, 0], ("ab", [2, 1]), ("cd", [1, 2]))
        ),
        # 'é' is 2 bytes: an end of 1 cuts it; counted in UTF-16 units, 'éx' ends at 1, 2.
        "a metadata end inside a UTF-8 character": _batch(
            good.values, metadata=_metadata([0, 1], ("éx", [1, 3]), ("cd", [1, 2]))
        ),
        "metadata ends in UTF-16 units": _batch(
            good.values, metadata=_metadata([0, 1], ("ab", [1, 2]), ("éx", [1, 2]))
        ),
        "metadata text without pairs": _batch(
            good.values, metadata=_metadata([], ("", []), ("v", []))
        ),
    }


@pytest.mark.parametrize("case", list(_malformed()))
def test_a_malformed_batch_fails_every_record_and_never_traps(paths, case):
    batch = _malformed()[case]
    n = len(batch.values.ends)
    every = list(range(n))
    guest = _filter(paths)
    out = guest.world.filter_batch(batch)
    errors = decode_errors(out.errors, n)
    assert sorted(errors) == every
    assert all(isinstance(e, SerializationError) for e in errors.values())
    assert all(e.message.startswith("malformed batch: ") for e in errors.values()), errors
    assert decode_keep(out.keep, n) == [False] * n
    # The instance lives on and answers a good batch.
    good = guest.world.filter_batch(encode_batch(bindings("types"), [Record(value=ACTIVE)]))
    assert (good.keep, good.errors) == (b"\x01", [])

    transform = _transform(paths)
    out = transform.world.transform_batch(batch)
    assert sorted(decode_errors(out.errors, n)) == every
    assert [v for _, v, _, _ in decode_rows(out.records)] == [b""] * n


rows = st.lists(
    st.tuples(
        st.none() | st.binary(max_size=6) | st.text(max_size=4).map(str.encode),
        st.one_of(json_objects.map(lambda o: _dumps(o)), record_values),
        st.none() | INT64,
        metadata,
    ),
    max_size=20,
)


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def _lose_leading_bom(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`pairs` as the per-record export returns them: componentize-js lifts each
    name and value with a BOM-stripping TextDecoder and cannot know the loss."""
    return [(n.removeprefix("\ufeff"), v.removeprefix("\ufeff")) for n, v in pairs]


def _one_by_one(guest: Guest02, row: Row) -> Row | PluginError:
    key, value, timestamp, pairs = row
    wit = bindings("types")
    got = result(guest.world.transform(wit.Record(key, value, timestamp, pairs)))
    if isinstance(got, PluginError):
        return got
    return (got.key, got.value, got.timestamp, [tuple(p) for p in got.metadata])


@given(rows)
@example(  # two keys that are half a character each: UTF-8 together, not apart
    [(b"\xc3", b"{}", None, []), (b"\xa9", b'{"email": "\xc3\xa9@x"}', 1, [("a", "1"), ("a", "2")])]
)
@example(  # non-ASCII metadata: its ends count bytes; a leading U+FEFF in the first pair
    [(None, b"{}", None, [("\ufeffé", "\ufeff😀"), ("ü", "")]), (None, b"{}", None, [("a", "é")])]
)
@settings(max_examples=40)
def test_transform_batch_gives_what_transform_gives_record_by_record(paths, batch_rows):
    guest = _transform(paths)
    want = [_one_by_one(guest, r) for r in batch_rows]
    out = guest.world.transform_batch(encode_rows(bindings("types"), batch_rows))
    n = len(batch_rows)
    errors = decode_errors(out.errors, n)
    got = decode_rows(out.records)
    # The batch carries metadata exactly (mask_email keeps it); the per-record
    # export loses each name's and value's leading U+FEFF, and only that.
    for i, (_, _, _, pairs) in enumerate(batch_rows):
        if i not in errors:
            assert got[i][3] == pairs
            got[i] = (*got[i][:3], _lose_leading_bom(pairs))
    assert [errors.get(i, got[i]) for i in range(n)] == want
    # A failed record's place holds an empty record.
    assert all(got[i] == (None, b"", None, []) for i in errors)


@given(st.lists(st.sampled_from([ACTIVE, b'{"status": "x"}', b"{", "é".encode()]), max_size=40))
@settings(max_examples=30)
def test_filter_bitmap_spans_bytes_least_significant_bit_first(paths, values):
    guest = _filter(paths)
    want = [result(guest.world.filter(bindings("types").Record(None, v, None, []))) for v in values]
    out = guest.world.filter_batch(
        encode_batch(bindings("types"), [Record(value=v) for v in values])
    )
    errors = decode_errors(out.errors, len(values))
    keep = decode_keep(out.keep, len(values))
    assert [errors.get(i, keep[i]) for i in range(len(values))] == want


def test_a_leading_bom_survives_in_values_and_keys(paths):
    # componentize-js lifts strings with a BOM-stripping TextDecoder; the SDK
    # puts the U+FEFF back from the ends.
    bom = "\ufeff".encode()
    recs = [
        Record(value=bom + b'{"email": "ann@x"}', key=bom + b"k"),
        Record(value=b'{"email": "bob@y"}', key=bom),
    ]
    guest = _transform(paths)
    out = guest.world.transform_batch(encode_batch(bindings("types"), recs))
    got = decode_rows(out.records)
    assert decode_errors(out.errors, 2) == {0: SerializationError("value is not valid JSON")}
    assert got[1] == (bom, b'{"email":"b***@y"}', None, [])
    filtered = _filter(paths).world.filter_batch(
        encode_batch(bindings("types"), [Record(value=bom + ACTIVE), Record(value=ACTIVE)])
    )
    assert decode_errors(filtered.errors, 2) == {0: SerializationError("value is not valid JSON")}
    assert decode_keep(filtered.keep, 2) == [False, True]


def test_a_leading_bom_survives_in_metadata_names_and_values(paths):
    # Only the first item of a string column can lose it: the rest are inside the text.
    pairs = [[("\ufeffn", "\ufeff"), ("\ufeff", "\ufeffé")], [("m", "v")]]
    recs = [(None, b'{"email": "ann@x"}', None, pairs[0]), (None, b"{}", None, pairs[1])]
    out = _transform(paths).world.transform_batch(encode_rows(bindings("types"), recs))
    assert out.errors == []
    assert [m for _, _, _, m in decode_rows(out.records)] == pairs


@pytest.mark.slow
def test_1024_records_of_16_kib_in_one_batch(paths):
    value = b'{"status": "active", "pad": "' + "é".encode() * 8180 + b'"}'
    assert len(value) > 16 * 1024
    recs = [Record(value=value if i % 3 else b"{}") for i in range(1024)]
    out = _filter(paths).world.filter_batch(encode_batch(bindings("types"), recs))
    assert out.errors == []
    assert decode_keep(out.keep, 1024) == [bool(i % 3) for i in range(1024)]
