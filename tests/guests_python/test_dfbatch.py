"""The Python guest SDK's columnar module (host/dataflare/sdk/python/dfbatch.py), run on the host.

It runs here against the guest-side bindings componentize-py generates for
`wit/`, so every batch shape can be tried in microseconds; the built
components are tested end to end in test_columnar_guests.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from dataflare.errors import ProcessingError, SerializationError
from dataflare.model import Record
from hypothesis import event, given
from hypothesis import strategies as st
from plugins.strategies import record_lists

from guests_python import wit02


@pytest.fixture(scope="session")
def sdk(guest_import: Callable[[str], ModuleType]) -> ModuleType:
    """dfbatch, importing the guest bindings componentize-py generates."""
    return guest_import("dfbatch")


def err(sdk: ModuleType, message: str) -> Exception:
    """What plugin code raises for a processing error."""
    module = sys.modules["componentize_py_types"]
    return module.Err(sdk.types.PluginError_Processing(message))  # type: ignore[no-any-return]


def viewed(view: Any) -> Record:
    return Record(view.value, key=view.key, timestamp=view.timestamp, metadata=dict(view.metadata))


@given(record_lists)
def test_views_read_back_every_record(sdk: ModuleType, records: list[Record]) -> None:
    batch = sdk.Batch(wit02.to_batch(sdk.types, records))
    assert len(batch) == len(records)
    assert [viewed(v) for v in batch] == records
    assert batch.values() == [r.value for r in records]
    assert batch.keys() == [r.key for r in records]


@given(record_lists)
def test_with_value_keeps_the_rest_of_the_record(sdk: ModuleType, records: list[Record]) -> None:
    def upper(view: Any) -> Any:
        return view.with_value(view.value.upper())

    outcome = sdk.transform_batch(wit02.to_batch(sdk.types, records), upper)
    want = [Record(r.value.upper(), r.key, r.timestamp, r.metadata) for r in records]
    assert wit02.transform_outcomes(outcome, len(records)) == want
    singly = [sdk.transform_one(r, upper) for r in wit02.wit_records(sdk.types, records)]
    assert wit02.from_batch(sdk.batch_of(singly)) == want


@given(record_lists, st.data())
def test_failed_and_rebuilt_records_take_their_places(
    sdk: ModuleType, records: list[Record], data: st.DataObject
) -> None:
    fails = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    rekey = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))

    def change(view: Any) -> Any:
        if fails[view.index]:
            raise err(sdk, f"no {view.index}")
        if rekey[view.index]:
            return sdk.types.Record(b"k\xff", view.value + b"!", 7, [("m", "v")])
        return view.with_value(view.value)

    outcome = sdk.transform_batch(wit02.to_batch(sdk.types, records), change)
    want = [
        ProcessingError(f"no {i}")
        if f
        else Record(r.value + b"!", b"k\xff", 7, {"m": "v"})
        if k
        else r
        for i, (r, f, k) in enumerate(zip(records, fails, rekey, strict=True))
    ]
    assert wit02.transform_outcomes(outcome, len(records)) == want


@given(st.lists(st.sampled_from([True, False, None]), max_size=40))
def test_filter_bitmap_is_lsb_first_with_sparse_errors(
    sdk: ModuleType, decisions: list[bool | None]
) -> None:
    records = [Record(str(i).encode()) for i in range(len(decisions))]

    def keep(view: Any) -> bool:
        decision = decisions[int(view.value)]
        if decision is None:
            raise err(sdk, "undecided")
        return decision

    outcome = sdk.filter_batch(wit02.to_batch(sdk.types, records), keep)
    want = [ProcessingError("undecided") if d is None else d for d in decisions]
    assert wit02.filter_outcomes(outcome, len(records)) == want
    assert [e.index for e in outcome.errors] == [i for i, d in enumerate(decisions) if d is None]


def test_metadata_is_found_per_record_in_the_columns(sdk: ModuleType) -> None:
    t = sdk.types
    names = t.StringColumn("aéb€c", [1, 3, 4, 7, 8])  # a, é, b, €, c
    values = t.StringColumn("vwxyz", [1, 2, 3, 4, 5])
    wit = t.Batch(
        t.BytesColumn("", [0, 0, 0, 0], [], []),
        None,
        None,
        t.MetadataColumn([1, 1, 1, 3, 3], names, values),
    )
    batch = sdk.Batch(wit)
    want = [[], [("a", "v"), ("é", "w"), ("b", "x")], [], [("€", "y"), ("c", "z")]]
    assert [batch.metadata(i) for i in range(4)] == want
    assert [view.metadata for view in batch] == want
    ascii_only = t.MetadataColumn([0, 2], t.StringColumn("ab", [1, 2]), t.StringColumn("", [0, 0]))
    batch = sdk.Batch(t.Batch(wit.values, None, None, ascii_only))
    assert [batch.metadata(i) for i in range(4)] == [[("a", "")], [], [("b", "")], []]


def test_batch_of_builds_metadata_columns_with_byte_ends(sdk: ModuleType) -> None:
    t = sdk.types
    records = [
        t.Record(None, b"0", None, [("é", "1"), ("n", "€")]),
        t.Record(None, b"1", None, []),
        t.Record(None, b"2", None, [("x", "")]),
    ]
    meta = sdk.batch_of(records).metadata
    assert meta.records == [0, 0, 2]
    assert (meta.names.text, meta.names.ends) == ("énx", [2, 3, 4])
    assert (meta.values.text, meta.values.ends) == ("1€", [1, 4, 4])
    empty = sdk.batch_of([None, None]).metadata
    assert (empty.records, empty.names.ends, empty.values.text) == ([], [], "")


# Each breaks one metadata rule of a 3-record batch whose other columns are fine.
BAD_METADATA = {
    "more names than records": ([0], ("ab", [1, 2]), ("v", [1])),
    "fewer values than records": ([0, 1], ("ab", [1, 2]), ("v", [1])),
    "records decrease": ([1, 0], ("ab", [1, 2]), ("vw", [1, 2])),
    "record out of range": ([0, 3], ("ab", [1, 2]), ("vw", [1, 2])),
    "ends decrease": ([0, 1], ("ab", [2, 1]), ("vw", [1, 2])),
    "last end short of the text": ([0, 1], ("abc", [1, 2]), ("vw", [1, 2])),
    "last end past the text": ([0, 1], ("ab", [1, 3]), ("vw", [1, 2])),
    "end inside a character": ([0, 1], ("é", [1, 2]), ("vw", [1, 2])),
    "text without items": ([], ("", []), ("v", [])),
}


@pytest.mark.parametrize("bad", BAD_METADATA.values(), ids=BAD_METADATA.keys())
def test_malformed_metadata_fails_every_record(sdk: ModuleType, bad: Any) -> None:
    t = sdk.types
    records, (names, name_ends), (values, value_ends) = bad
    meta = t.MetadataColumn(
        records, t.StringColumn(names, name_ends), t.StringColumn(values, value_ends)
    )
    batch = t.Batch(t.BytesColumn("abc", [1, 2, 3], [], []), None, None, meta)
    assert not good_metadata(meta, 3)
    outcome = sdk.filter_batch(batch, lambda view: True)
    errors = wit02.filter_outcomes(outcome, 3)
    assert all(
        isinstance(e, SerializationError) and str(e).startswith("malformed batch: metadata")
        for e in errors
    )


@pytest.mark.parametrize(
    "items",
    [
        [b"\xc3", b"\xa9"],  # valid joined, each half alone is not
        [b"\xe2\x82", b"\xac", b"ok"],
        [b"caf\xc3\xa9", b"\xff", b""],
        [],
    ],
)
def test_items_that_split_characters_travel_as_binary(sdk: ModuleType, items: list[bytes]) -> None:
    column = sdk.bytes_column(list(items), may_be_absent=False)
    assert wit02.items(column, len(items)) == items


def good_column(col: Any, n: int, may_be_absent: bool) -> bool:
    """The WIT's column rules, written apart from the SDK's checks."""
    try:
        data = col.text.encode()
        ends = col.ends
        if len(ends) != n or (n and ends[-1] != len(data)) or (not n and data):
            return False
        if any(b < a for a, b in itertools.pairwise(ends)):
            return False
        starts = [0, *ends[:-1]] if n else []
        for s, e in zip(starts, ends, strict=True):
            data[s:e].decode()
    except UnicodeDecodeError:
        return False
    binary = [i for i, _ in col.binary]
    for indices in (binary, col.absent):
        if any(b <= a for a, b in itertools.pairwise(indices)):
            return False
        if any(i >= n or starts[i] != ends[i] for i in indices):
            return False
    if col.absent and not may_be_absent:
        return False
    return not set(binary) & set(col.absent)


@st.composite
def batches(draw: st.DrawFn, sdk: ModuleType) -> Any:
    """Batches near the rules: mostly right, with one field bent."""
    t = sdk.types
    records = draw(record_lists)
    batch = wit02.to_batch(t, records)
    n = len(records)
    indices = st.lists(st.integers(0, n + 1), max_size=3)
    which = draw(
        st.sampled_from(
            [
                *("none", "ends", "text", "binary", "absent", "keys", "times"),
                *("meta records", "meta ends", "meta text"),
            ]
        )
    )
    values = batch.values
    if which == "ends":
        values = t.BytesColumn(
            values.text,
            draw(st.lists(st.integers(0, 40), min_size=n, max_size=n + 1)),
            values.binary,
            values.absent,
        )
    elif which == "text":
        values = t.BytesColumn(draw(st.text(max_size=8)), values.ends, values.binary, values.absent)
    elif which == "binary":
        values = t.BytesColumn(
            values.text, values.ends, [(i, b"\xff") for i in draw(indices)], values.absent
        )
    elif which == "absent":
        values = t.BytesColumn(values.text, values.ends, values.binary, draw(indices))
    keys, times, meta = batch.keys, batch.timestamps, batch.metadata
    if which == "keys":
        keys = t.BytesColumn(
            draw(st.text(max_size=4)),
            draw(st.lists(st.integers(0, 6), max_size=n + 1)),
            [],
            draw(indices),
        )
    elif which == "times":
        times = t.TimestampColumn(draw(st.lists(st.integers(0, 9), max_size=n + 1)), draw(indices))
    elif which.startswith("meta"):
        meta = bent_metadata(draw, t, meta, n, which)
    return t.Batch(values, keys, times, meta)


def bent_metadata(draw: st.DrawFn, t: ModuleType, meta: Any, n: int, which: str) -> Any:
    """The metadata column with its records, one column's ends or one column's text redrawn."""
    k = len(meta.records)
    records, names, values = meta.records, meta.names, meta.values
    if which == "meta records":
        records = draw(st.lists(st.integers(0, n + 1), min_size=max(0, k - 1), max_size=k + 1))
    else:
        column = draw(st.sampled_from([names, values]))
        if which == "meta ends":
            ends = draw(st.lists(st.integers(0, 12), min_size=max(0, k - 1), max_size=k + 1))
            bent = t.StringColumn(column.text, ends)
        else:
            bent = t.StringColumn(draw(st.text(max_size=8)), column.ends)
        names, values = (bent, values) if column is names else (names, bent)
    return t.MetadataColumn(records, names, values)


def good_strings(col: Any, k: int) -> bool:
    """The WIT's `string-column` rules, for a column of k items."""
    data, ends = col.text.encode(), col.ends
    if len(ends) != k or (ends[-1] != len(data) if k else bool(data)):
        return False
    if any(b < a for a, b in itertools.pairwise(ends)):
        return False
    starts = [0, *ends[:-1]] if k else []
    try:
        for s, e in zip(starts, ends, strict=True):
            data[s:e].decode()
    except UnicodeDecodeError:
        return False
    return True


def good_metadata(meta: Any, n: int) -> bool:
    """The WIT's `metadata-column` rules, written apart from the SDK's checks."""
    records, k = meta.records, len(meta.records)
    if any(b < a for a, b in itertools.pairwise(records)) or any(i >= n for i in records):
        return False
    return good_strings(meta.names, k) and good_strings(meta.values, k)


def well_formed(batch: Any) -> bool:
    n = len(batch.values.ends)
    if not good_column(batch.values, n, may_be_absent=False):
        return False
    if batch.keys is not None and not good_column(batch.keys, n, may_be_absent=True):
        return False
    times = batch.timestamps
    if times is not None:
        absent = times.absent
        if len(times.values) != n or any(b <= a for a, b in itertools.pairwise(absent)):
            return False
        if any(i >= n for i in absent):
            return False
    return good_metadata(batch.metadata, n)


@given(st.data())
def test_a_malformed_batch_fails_every_record_and_never_raises(
    sdk: ModuleType, data: st.DataObject
) -> None:
    batch = data.draw(batches(sdk))
    n = len(batch.values.ends)
    calls: list[int] = []

    def keep(view: Any) -> bool:
        calls.append(view.index)
        view.value, view.key, view.timestamp, view.metadata  # noqa: B018 (reads every column)
        return True

    outcome = sdk.filter_batch(batch, keep)
    event("well formed" if well_formed(batch) else "malformed")
    folded = sdk.fold_batch(batch, keep)
    if well_formed(batch):
        assert outcome.errors == [] and folded == []
        assert wit02.filter_outcomes(outcome, n) == [True] * n
    else:
        assert calls == []
        errors = wit02.filter_outcomes(outcome, n)
        assert all(
            isinstance(e, SerializationError) and str(e).startswith("malformed batch: ")
            for e in errors
        )
        assert wit02.sparse(folded, n) == errors
        transformed = sdk.transform_batch(batch, lambda v: v.with_value(b""))
        assert wit02.transform_outcomes(transformed, n) == errors


def test_fold_batch_reports_sparse_errors(sdk: ModuleType) -> None:
    total: list[int] = []

    def fold(view: Any) -> None:
        if view.value == b"x":
            raise err(sdk, "not a number")
        total.append(int(view.value))

    records = [Record(v) for v in (b"1", b"x", b"2", b"x")]
    errors = sdk.fold_batch(wit02.to_batch(sdk.types, records), fold)
    assert total == [1, 2]
    assert wit02.sparse(errors, 4) == [None, ProcessingError("not a number")] * 2
    assert sdk.write_batch(wit02.to_batch(sdk.types, records), fold) == errors  # a sink's
    assert total == [1, 2, 1, 2]
