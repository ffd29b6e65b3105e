"""The Rust SDK's canonical-ABI glue (0.2.0), end to end: exact round trips through a component.

`echo` (guest-examples/rust/echo) returns each record unchanged, so any
layout mistake in lifting or lowering `record`, `batch`, `transform-outcome`,
results or `plugin-error` shows up as a difference here. The unit tests
behind `make -C guest-examples/rust test` check the same layouts against a
spec calculator with a fake memory; this checks them against wasmtime,
through the bindings generated from wit/.
"""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
from dataflare.errors import PluginError, plugin_error
from guests_rust.strategies import INT64, metadata, raw_records
from guests_rust.twins import outcome
from guests_rust.wit02 import Guest02, bindings, plain, raw_batch, unwrap
from hypothesis import given, settings
from hypothesis import strategies as st
from support.guests import ROOT, built_guest
from support.tools import missing


@pytest.fixture(scope="module")
def echo_path():
    return built_guest("rust", "echo")


@pytest.fixture(scope="module")
def echo(echo_path):
    return Guest02(echo_path, "transform").world


def wit(rec):
    key, value, timestamp, pairs = rec
    return bindings().types.Record(key, value, timestamp, [tuple(p) for p in pairs])


def fields(record):
    return (record.key, record.value, record.timestamp, [tuple(p) for p in record.metadata])


def test_cargo_unit_tests_pass():
    """Layout constants vs the spec calculator, fake-memory round trips, checks, JSON rules."""
    proc = subprocess.run(
        ["make", "-s", "-C", str(ROOT / "guest-examples" / "rust"), "test"],
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 and "not found" in output and "install" in output:
        missing(output.strip())
    assert proc.returncode == 0, output
    assert "test result: ok" in output


@given(raw_records)
@settings(max_examples=60)
def test_one_record_round_trips_exactly(echo, rec):
    out = unwrap(echo.transform(wit(rec)))
    assert fields(out) == (rec[0], rec[1], rec[2], [tuple(p) for p in rec[3]])


@given(st.lists(raw_records, max_size=8))
@settings(max_examples=60)
def test_batches_round_trip_exactly_and_in_order(echo, recs):
    # Values, keys, timestamps and metadata pairs (order and repeats) come
    # back column for column: non-UTF-8 bytes in `binary`, key-less records
    # in `absent`, and unused columns as `none`.
    batch = raw_batch(recs)
    out = echo.transform_batch(batch)
    assert out.errors == []
    assert out.records == batch


@pytest.mark.parametrize("timestamp", [None, 0, -1, 1, -(2**63), 2**63 - 1, 2**32, -(2**31) - 1])
@pytest.mark.parametrize("key", [None, b"", b"\x00", bytes(range(256))])
def test_option_fields_keep_none_apart_from_empty(echo, key, timestamp):
    out = unwrap(echo.transform(wit((key, b"", timestamp, []))))
    assert fields(out) == (key, b"", timestamp, [])
    batch = raw_batch([(key, b"", timestamp, []), (b"k", b"v", None, [])])
    assert echo.transform_batch(batch).records == batch


def test_large_values_and_many_pairs_round_trip(echo):
    value = bytes(range(256)) * 1024 + b"tail"  # 256 KiB + 4, not UTF-8: goes in `binary`
    text = "é🌍" * (40 << 10)  # multi-byte UTF-8: byte offsets, not characters
    pairs = [(f"k{i}", "ü" * (i % 7)) for i in range(300)] + [("k1", "repeat")]
    out = unwrap(echo.transform(wit((b"key", value, 2**63 - 1, pairs))))
    assert fields(out) == (b"key", value, 2**63 - 1, pairs)
    batch = raw_batch([(b"key", value, 1, pairs), (None, text.encode(), None, pairs[:3])])
    out = echo.transform_batch(batch).records
    assert out == batch
    assert out.values.ends == [0, len(text.encode())]


@pytest.mark.parametrize("kind", ["processing", "configuration", "io", "serialization"])
def test_every_error_case_lowers_with_its_message(echo, kind):
    message = "näh 😀 " + kind
    bad = (None, message.encode(), None, [("echo.fail", kind)])
    with pytest.raises(PluginError) as info:
        unwrap(echo.transform(wit(bad)))
    assert info.value == plugin_error(kind, message)
    ok = (b"k", b"v", 5, [("a", "b")])
    out = echo.transform_batch(raw_batch([ok, bad, ok]))
    assert [(e.index, plain(e.error)) for e in out.errors] == [(1, plugin_error(kind, message))]
    # The failed record's place holds an empty record, so positions agree.
    assert out.records == raw_batch([ok, (None, b"", None, []), ok])


def test_empty_batch(echo):
    out = echo.transform_batch(raw_batch([]))
    assert (out.records, out.errors) == (raw_batch([]), [])


def test_log_import_reaches_the_host(echo_path):
    guest = Guest02(echo_path, "transform")
    unwrap(guest.world.transform(wit((None, b"", None, [("echo.log", "hello ✓")]))))
    guest.world.transform_batch(raw_batch([(None, b"", None, [("echo.log", "batch ✓")])]))
    assert guest.logs.lines == [("info", "hello ✓"), ("info", "batch ✓")]


def test_describe_lowers_plugin_info(echo):
    info = echo.describe()
    assert (info.name, info.version, info.kind.value) == ("echo", "0.1.0", "transform")
    assert info.description == "Return each record unchanged."
    params = [(p.name, p.description, p.required, p.default) for p in info.params]
    assert params == [
        ("note", "ignored; shows a default", False, "dëfault"),
        ("other", "ignored; no default", False, None),
        ("tag", "any text; shows a required parameter", True, None),
    ]


@given(metadata)
@settings(max_examples=30)
def test_configure_lifts_config_pairs(echo_path, pairs):
    world = Guest02(echo_path, "transform").world
    pairs = [(k, v) for k, v in pairs if k != "fail"]
    assert unwrap(world.configure([*pairs, ("tag", "x")])) is None
    missing_tag = outcome(world.configure([(k, v) for k, v in pairs if k != "tag"]))
    assert missing_tag == plugin_error("configuration", "missing required parameter 'tag'")
    failing = outcome(world.configure([*pairs, ("fail", "bad ü")]))
    assert failing == plugin_error("configuration", "bad ü")


def _corrupt_metadata(column, n, draw):
    """`column` (a `metadata-column`) with one of its rules broken."""
    types = bindings().types
    names, values = column.names, column.values
    pairs = len(column.records)
    choice = draw(st.integers(0, 4))
    if choice == 0:  # a pair of a record that does not exist
        records = [*column.records, n + draw(st.integers(0, 9))]
        names = types.StringColumn(names.text + "a", [*names.ends, len(names.text.encode()) + 1])
        values = types.StringColumn(values.text, [*values.ends, len(values.text.encode())])
        return types.MetadataColumn(records, names, values)
    if choice == 1:  # records that decrease
        return types.MetadataColumn(
            [1, 0], types.StringColumn("ab", [1, 2]), types.StringColumn("", [0, 0])
        )
    if choice == 2:  # one name fewer than pairs
        return dataclasses.replace(column, records=[*column.records, n - 1])
    if choice == 3:  # a name end inside a multi-byte character
        text = names.text + "é"
        start = len(names.text.encode())
        names = types.StringColumn(text, [*names.ends, start + 1])
        ends = [*values.ends, len(values.text.encode())]
        values = types.StringColumn(values.text, ends)
        return types.MetadataColumn([*column.records, n - 1], names, values)
    # a value end past the text
    ends = [*values.ends[:-1], len(values.text.encode()) + 1] if pairs else [1]
    records = column.records if pairs else [0]
    names = names if pairs else types.StringColumn("", [0])
    return types.MetadataColumn(records, names, types.StringColumn(values.text, ends))


def _corrupt(batch, draw):
    """`batch` with one rule of the WIT broken (offsets, indices or lengths)."""
    n = len(batch.values.ends)
    column = batch.values
    choice = draw(st.integers(0, 5))
    if choice == 0:  # an end past the text
        column = dataclasses.replace(column, ends=[*column.ends[:-1], len(column.text) + 1])
    elif choice == 1 and n >= 2 and column.ends[-2] > 0:  # decreasing ends
        ends = list(column.ends)
        ends[-2], ends[-1] = ends[-1] + 1, ends[-2] - 1
        column = dataclasses.replace(column, ends=ends)
    elif choice == 2:  # one offset too many
        column = dataclasses.replace(column, ends=[*column.ends, len(column.text)])
        return dataclasses.replace(batch, values=column), "offsets", n + 1
    elif choice == 3:  # a binary index out of range
        column = dataclasses.replace(column, binary=[*column.binary, (n + 5, b"\xff")])
    elif choice == 4:  # a broken metadata column
        metadata = _corrupt_metadata(batch.metadata, n, draw)
        return dataclasses.replace(batch, metadata=metadata), "metadata", n
    else:  # timestamps of the wrong length
        ts = bindings().types.TimestampColumn([0] * (n + 1), [])
        return dataclasses.replace(batch, timestamps=ts), "timestamps", n
    return dataclasses.replace(batch, values=column), "", n


@given(st.lists(raw_records, min_size=1, max_size=6), st.data())
@settings(max_examples=60)
def test_malformed_batches_fail_every_record_without_trapping(echo, recs, data):
    batch = raw_batch(recs)
    bad, _, n = _corrupt(batch, data.draw)
    if bad == batch:
        return
    out = echo.transform_batch(bad)
    assert [e.index for e in out.errors] == list(range(n))
    assert all(plain(e.error).kind == "serialization" for e in out.errors)
    assert all(str(plain(e.error)).startswith("invalid batch: ") for e in out.errors)
    assert len(out.records.values.ends) == n
    # The instance is not poisoned: the next good batch goes through.
    assert echo.transform_batch(batch).records == batch


def _metadata_column(records, names, name_ends, values, value_ends):
    types = bindings().types
    return types.MetadataColumn(
        records, types.StringColumn(names, name_ends), types.StringColumn(values, value_ends)
    )


@pytest.mark.parametrize(
    ("column", "why"),
    [
        (([0, 2], "ab", [1, 2], "", [0, 0]), "metadata record 2 is out of range for 2 records"),
        (([1, 0], "ab", [1, 2], "", [0, 0]), "metadata records decrease at 0 (after 1)"),
        (([0, 1], "a", [1], "", [0, 0]), "metadata names has 1 items for 2 metadata pairs"),
        (([0], "é", [1], "", [0]), "metadata names offset 1 of item 0 is inside a character"),
        (([0], "a", [1], "v", [2]), "metadata values offset 2 of item 0 is past the end"),
        (([0, 0], "ab", [2, 1], "", [0, 0]), "metadata names offsets decrease at item 1 (1 < 2)"),
        (([0], "ab", [1], "", [0]), "metadata names offsets end at 1 but the text holds 2 bytes"),
    ],
)
def test_malformed_metadata_columns_fail_every_record(echo, column, why):
    good = raw_batch([(None, b"x", None, [("é", "🌍")]), (b"k", b"y", 1, [])])
    out = echo.transform_batch(dataclasses.replace(good, metadata=_metadata_column(*column)))
    assert [e.index for e in out.errors] == [0, 1]
    for e in out.errors:
        error = plain(e.error)
        assert error.kind == "serialization", error
        assert str(error).startswith(f"invalid batch: {why}"), error
    # Each failed record's place holds an empty record; the instance goes on.
    assert out.records == raw_batch([(None, b"", None, [])] * 2)
    assert echo.transform_batch(good).records == good


@given(st.lists(INT64, min_size=1, max_size=20))
@settings(max_examples=20)
def test_repeated_calls_free_and_reuse_memory(echo, stamps):
    for t in stamps:
        for _ in range(20):
            assert unwrap(echo.transform(wit((b"k", b"x" * 100, t, [("a", "b")])))).timestamp == t


def test_post_return_frees_what_each_call_handed_out(echo_path):
    # 200 rounds move ~100 MiB through a guest capped at 16 MiB of linear
    # memory: any buffer not freed at post-return (or any parameter not
    # taken over) would exhaust it and trap.
    guest = Guest02(echo_path, "transform", memory_limit=16 << 20)
    big = "é" * (64 << 10)
    for i in range(200):
        out = unwrap(guest.world.transform(wit((b"k", b"v", i, [("big", big)]))))
        assert out.timestamp == i and out.metadata[0][1] == big
        batch = raw_batch([(None, big.encode(), i, [("big", big)])] * 2)
        assert guest.world.transform_batch(batch).records == batch
