"""The world 0.2 checks, on plugins written in Python (tests/conformance/fakes.py).

Each correct fake passes; each planted bug is caught by the check that owns
it, with a message that names the rule and the smallest input. A 0.1 fake
shows the 0.1 batch check still counts one outcome per record.
"""

from __future__ import annotations

import pytest
from dataflare._wit import types as wit
from dataflare.conformance import Status
from dataflare.conformance._batch_output import check_batch_output
from dataflare.conformance._columnar import (
    BatchProblem,
    decode_batch,
    decode_errors,
    decode_keep,
    encode_batch,
)
from dataflare.conformance._drivers import Driver
from dataflare.conformance._harness import Malformed, Refused, Returned
from dataflare.conformance._inputs import batches
from dataflare.conformance._lifecycle import check_lifecycle
from dataflare.conformance._merge import check_merge, parts
from dataflare.conformance._props import (
    check_aggregate_fold,
    check_batch,
    check_determinism,
    check_no_trap,
)
from dataflare.conformance._source_read import check_source_read
from dataflare.model import PluginKind
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.fakes import Record, fake_run

F, T, A, SI, SO = (
    PluginKind.FILTER,
    PluginKind.TRANSFORM,
    PluginKind.AGGREGATE,
    PluginKind.SINK,
    PluginKind.SOURCE,
)


@given(batches(max_size=12))
def test_encoded_batches_decode_to_the_same_records(records):
    assert decode_batch(encode_batch(records), len(records)) == records


def test_encoding_follows_the_wit_shape():
    batch = encode_batch(
        [
            Record(b"k", "é".encode(), 5, [("a", "1")]),
            Record(None, b"\xff", None, []),
            Record("ключ".encode(), b"xy", None, [("b", "2"), ("b", "3")]),
        ]
    )
    assert batch.values.text == "éxy" and batch.values.ends == [2, 2, 4]
    assert batch.values.binary == [(1, b"\xff")] and batch.values.absent == []
    assert batch.keys is not None and batch.keys.absent == [1] and batch.keys.ends == [1, 1, 9]
    assert batch.timestamps == wit.TimestampColumn([5, 0, 0], [1, 2])
    assert batch.metadata.records == [0, 2, 2]
    assert batch.metadata.names == wit.StringColumn("abb", [1, 2, 3])
    assert batch.metadata.values == wit.StringColumn("123", [1, 2, 3])
    assert encode_batch([Record(None, b"v", None, [])]).keys is None


def _column(text, ends, binary=(), absent=()):
    return wit.BytesColumn(text, list(ends), list(binary), list(absent))


def _strings(text, ends):
    return wit.StringColumn(text, list(ends))


def _meta(records, names=None, values=None):
    """Pairs of one-character names and values unless given."""
    one = _strings("x" * len(records), range(1, len(records) + 1))
    return wit.MetadataColumn(list(records), names or one, values or one)


NO_META = _meta([])


@pytest.mark.parametrize(
    ("batch", "count", "message"),
    [
        (wit.Batch(_column("ab", [1]), None, None, NO_META), 2, "values.ends has 1 entries for 2"),
        (
            wit.Batch(_column("ab", [2, 1]), None, None, NO_META),
            2,
            "values.ends decreases at record 1",
        ),
        (wit.Batch(_column("ab", [1, 3]), None, None, NO_META), 2, "past the end of values.text"),
        (wit.Batch(_column("éé", [1, 2]), None, None, NO_META), 2, "not characters"),
        (
            wit.Batch(_column("a", [1], [(0, b"\xff")]), None, None, NO_META),
            1,
            "span of text is not empty",
        ),
        (
            wit.Batch(_column("", [0, 0], [(1, b"\xff"), (0, b"\xfe")]), None, None, NO_META),
            2,
            "strictly",
        ),
        (
            wit.Batch(_column("", [0], absent=[0]), None, None, NO_META),
            1,
            "values.absent must be empty",
        ),
        (wit.Batch(_column("", [0], [(3, b"\xff")]), None, None, NO_META), 1, "names record 3"),
        (
            wit.Batch(_column("", [0]), _column("", [0], [(0, b"\xff")], [0]), None, NO_META),
            1,
            "both keys.binary and keys.absent",
        ),
        (
            wit.Batch(_column("", [0]), None, wit.TimestampColumn([], []), NO_META),
            1,
            "timestamps.values has 0 entries",
        ),
        (
            wit.Batch(_column("", [0, 0]), None, None, _meta([2])),
            2,
            r"metadata.records\[0\] names record 2, but the batch has 2",
        ),
        (
            wit.Batch(_column("", [0, 0]), None, None, _meta([1, 0])),
            2,
            "metadata.records must never decrease .* 0 follows 1 at pair 1",
        ),
        (
            wit.Batch(_column("", [0]), None, None, _meta([0, 0], names=_strings("a", [1]))),
            1,
            r"metadata.names.ends has 1 entries for 2 metadata pair\(s\)",
        ),
        (
            wit.Batch(_column("", [0]), None, None, _meta([0], values=_strings("ab", [1]))),
            1,
            "the last of metadata.values.ends is 1, but metadata.values.text holds 2",
        ),
        (
            wit.Batch(_column("", [0]), None, None, _meta([0, 0], names=_strings("é", [1, 2]))),
            1,
            r"metadata.names.ends\[0\] = 1 falls inside a character",
        ),
        (
            wit.Batch(_column("", [0]), None, None, _meta([0, 0], names=_strings("ab", [2, 1]))),
            1,
            "metadata.names.ends decreases at item 1",
        ),
    ],
)
def test_a_malformed_batch_is_refused_with_the_rule_it_breaks(batch, count, message):
    with pytest.raises(BatchProblem, match=message):
        decode_batch(batch, count)


def test_keep_bitmaps_and_errors_are_checked():
    assert decode_keep(b"\x05\x01", 9) == [True, False, True, *[False] * 5, True]
    with pytest.raises(BatchProblem, match=r"1 byte\(s\) for 9 record\(s\); .* needs 2"):
        decode_keep(b"\xff", 9)
    error = wit.PluginErrorIo("x")
    assert decode_errors([wit.RecordError(1, error)], 2) == {1: error}
    with pytest.raises(BatchProblem, match="names record 2, but the batch has 2"):
        decode_errors([wit.RecordError(2, error)], 2)
    with pytest.raises(BatchProblem, match="record 0 has more than one error"):
        decode_errors([wit.RecordError(0, error), wit.RecordError(0, error)], 2)


def test_a_0_2_batch_driver_gives_one_outcome_per_record():
    run = fake_run(F)
    records = [
        Record(None, b"a", None, []),
        Record(None, b"err", None, []),
        Record(None, b"", 1, []),
    ]
    out = Driver(run.subject.probe(), F).feed_batch(records)
    assert out == [Returned(True), Refused("processing", "bad record"), Returned(False)]
    bad = Driver(fake_run(F, "short_bitmap").subject.probe(), F).feed_batch(records * 3)
    assert isinstance(bad, Malformed) and bad.export == "filter-batch"


@given(st.lists(st.integers(), max_size=7), st.lists(st.integers(0, 20), min_size=1, max_size=3))
def test_parts_cover_the_records_in_order(records, cuts):
    pieces = parts(records, cuts)
    assert len(pieces) == len(cuts) + 1
    assert [r for p in pieces for r in p] == records


def check_no_trap_only(run):
    from dataflare.conformance._budget import StandardRun

    return check_no_trap(run, StandardRun([]))


CORRECT = {
    F: (check_batch_output, check_batch, check_no_trap_only, check_determinism),
    T: (check_batch_output, check_batch),
    A: (check_batch_output, check_batch, check_aggregate_fold, check_merge),
    SI: (check_batch_output, check_batch),
    SO: (check_source_read, check_determinism),
}


@pytest.mark.parametrize("kind", list(CORRECT), ids=lambda k: k.value)
def test_correct_0_2_plugins_pass_every_check(kind):
    run = fake_run(kind)
    for check in CORRECT[kind]:
        result = check(run)
        assert result.status is Status.PASS, result
    if kind in (SI, SO):
        result = check_lifecycle(run.subject)
        assert result.status is Status.PASS, result


BUGS = {
    # (kind, bug): (the check that must catch it, text its detail must hold)
    (F, "short_bitmap"): (check_batch_output, "keep has 1 byte(s) for 9 record(s)"),
    (F, "error_index"): (check_batch_output, "an error names record"),
    (F, "bit_nine"): (check_batch, "record 8: single ok"),
    (F, "batch_traps"): (check_batch, "filter-batch trapped where filter did not: wasm trap"),
    (T, "char_offsets"): (check_batch_output, "ends count UTF-8 bytes, not characters"),
    (T, "drops_metadata"): (check_batch, "batch ok Record("),
    (A, "emit_ends"): (check_batch_output, "emit after aggregate-batch"),
    (A, "merge_swaps"): (check_merge, "emit differs: parts of"),
    (A, "batch_traps"): (check_aggregate_fold, "aggregate-batch trapped where aggregate did not"),
    (A, "merge_drops"): (check_merge, "folded apart and merged left to right"),
    (A, "merge_traps"): (check_merge, "merge of parts 0..0 with part 1 gave trap"),
    (SI, "unsorted_errors"): (check_batch_output, "has more than one error"),
    (SO, "records_after_end"): (check_source_read, "gave records after end"),
    (SO, "empty_records"): (check_source_read, "records holds no record"),
    (SO, "too_many"): (check_source_read, "more than asked for"),
}


@pytest.mark.parametrize(("kind", "bug"), list(BUGS), ids=[f"{k.value}-{b}" for k, b in BUGS])
def test_each_planted_bug_is_caught_by_its_check(kind, bug):
    check, evidence = BUGS[kind, bug]
    result = check(fake_run(kind, bug, seed=3))
    assert result.status is Status.FAIL, result
    assert evidence in result.detail, result.detail
    assert result.input is not None


def test_a_sink_that_accepts_a_batch_after_close_fails_lifecycle():
    result = check_lifecycle(fake_run(SI, "accepts_after_close").subject)
    assert result.status is Status.FAIL
    assert (
        result.detail
        == "write-batch after close accepted a record, but calls after close must fail"
    )


def test_the_merge_failure_shows_the_parts():
    result = check_merge(fake_run(A, "merge_swaps", seed=1))
    assert "in parts of [" in (result.input or "")


def _arrow(records):
    import pyarrow as pa
    from dataflare.columns import SCHEMA

    return pa.RecordBatch.from_arrays(
        [
            pa.array([r.key for r in records], pa.binary()),
            pa.array([r.value for r in records], pa.binary()),
            pa.array([r.timestamp for r in records], pa.int64()),
            pa.array([r.metadata for r in records], SCHEMA.field(3).type),
        ],
        schema=SCHEMA,
    )


@settings(max_examples=40)
@given(batches(max_size=12))
def test_the_checks_and_the_host_read_batches_alike(records):
    # The checks judge guests by the same reading of the WIT the host runs them with.
    from dataflare.plugins.wit_columns import from_wit_batch, to_wit_batch

    assert from_wit_batch(encode_batch(records)).equals(_arrow(records))
    assert decode_batch(to_wit_batch(_arrow(records))) == records


def test_the_0_1_batch_check_still_counts_outcomes_per_record():
    from conformance.fakes import fake_run_v01

    assert check_batch(fake_run_v01()).status is Status.PASS
    result = check_batch(fake_run_v01("one_more"))
    assert result.status is Status.FAIL
    assert result.detail == "filter-batch returned 1 outcome(s) for 0 record(s)"
    assert result.input == "[]"
