"""Deeply nested JSON is one record's problem wherever the host parses or writes JSON.

Python's `json` recurses per nesting level: 1,500 nested arrays (3 KB) raise
`RecursionError`, which no per-record ``except PluginError`` catches, so it
used to end the run and lose the good records of the batch. Every host JSON
path must turn it into a per-record `SerializationError` (`dataflare.jsonio`).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.connectors import CsvSink, JsonlSink, JsonlSource, PostgresSource, SqliteSink
from dataflare.connectors._rows import FieldsCodec, envelope_row_to_record
from dataflare.errors import SerializationError
from dataflare.model import Record
from dataflare.record_json import decode_envelope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):  # built without recursing
        value = [value]
    return value


@contextmanager
def default_recursion_limit() -> Iterator[None]:
    # Hypothesis and the builtins raise the process-wide limit; these cases are
    # about the default one.
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


@pytest.fixture(autouse=True)
def _default_recursion_limit() -> Iterator[None]:
    with default_recursion_limit():
        yield


_DEEP = st.integers(min_value=1_500, max_value=4_000)
_BATCHES = st.lists(st.one_of(st.integers(0, 99), _DEEP.map(lambda d: -d)), min_size=1, max_size=6)
"""A batch: n >= 0 is the good record {"id": n}; -d is a value nested d deep."""


def _records(batch: list[int]) -> list[Record]:
    return [
        Record(json.dumps({"id": n}).encode() if n >= 0 else nested(-n).encode()) for n in batch
    ]


def _check_outcomes(batch: list[int], outcomes: list[object]) -> None:
    for n, outcome in zip(batch, outcomes, strict=True):
        if n >= 0:
            assert outcome is None
        else:
            assert isinstance(outcome, SerializationError)
            assert "nested too deeply" in outcome.message


_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(_BATCHES)
def test_jsonl_sink_fails_only_the_deep_records(tmp_path: Path, batch: list[int]) -> None:
    path = tmp_path / "out.jsonl"
    sink = JsonlSink()
    sink.configure({"path": str(path)})
    sink.connect()
    with default_recursion_limit():
        outcomes = sink.write_batch(_records(batch))
    sink.close()
    _check_outcomes(batch, outcomes)
    written = [json.loads(line) for line in path.read_text().splitlines()]
    assert written == [{"id": n} for n in batch if n >= 0]


@_SETTINGS
@given(_BATCHES)
def test_sqlite_sink_fails_only_the_deep_records(tmp_path: Path, batch: list[int]) -> None:
    path = tmp_path / "out.db"
    path.unlink(missing_ok=True)
    sink = SqliteSink()
    sink.configure({"path": str(path), "table": "t"})
    sink.connect()
    # A deep value that is an object's field: the sink's JSON-object check must not recurse away.
    records = [
        r if n >= 0 else Record(b'{"id": 1, "v": ' + r.value + b"}")
        for n, r in zip(batch, _records(batch), strict=True)
    ]
    with default_recursion_limit():
        outcomes = sink.write_batch(records)
    sink.close()
    _check_outcomes(batch, outcomes)
    with sqlite3.connect(path) as conn:
        try:
            ids = [row[0] for row in conn.execute("SELECT id FROM t")]
        except sqlite3.OperationalError:  # no good record: no table created
            ids = []
    assert ids == [n for n in batch if n >= 0]


def test_csv_sink_fails_only_the_deep_record(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    sink = CsvSink()
    sink.configure({"path": str(path), "columns": "id"})
    sink.connect()
    outcomes = sink.write_batch([Record(b'{"id": 1}'), Record(nested(1500).encode())])
    sink.close()
    assert outcomes[0] is None and isinstance(outcomes[1], SerializationError)
    assert path.read_text() == "id\n1\n"


def test_jsonl_source_with_key_field_fails_only_the_deep_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1}\n{"id": ' + nested(1500) + '}\n{"id": 2}\n')
    source = JsonlSource()
    source.configure({"path": str(path), "key_field": "id"})
    source.connect()
    batch = source.read_batch(10)
    source.close()
    assert [r.key for r in batch.records] == [b"1", b"2"]
    [failure] = batch.failures
    assert failure.error.message == f"{path}:2: the value is nested too deeply to parse"


def test_rows_and_envelopes_refuse_deep_json_per_record() -> None:
    deep = deep_list(1500)
    with pytest.raises(SerializationError, match="nested too deeply"):
        FieldsCodec().to_row(Record(('{"a": ' + nested(1500) + "}").encode()))
    with pytest.raises(SerializationError, match="nested too deeply"):
        FieldsCodec().from_row({"doc": deep})
    with pytest.raises(SerializationError, match="nested too deeply"):
        envelope_row_to_record({"value": b"x", "metadata": '{"a": ' + nested(1500) + "}"})
    with pytest.raises(SerializationError, match="nested too deeply"):
        decode_envelope({"value": deep})


_WITHIN = nested(899)  # valid by the builtin JSON rules (MAX_DEPTH 900)


def test_json_filter_compares_a_field_as_deep_as_the_rules_allow() -> None:
    plugin = JsonFilter()
    plugin.configure({"field": "a", "value": _WITHIN})
    assert plugin.filter_batch([Record(('{"a": ' + _WITHIN + "}").encode())]) == [True]


def test_mask_email_encodes_a_value_as_deep_as_the_rules_allow() -> None:
    plugin = MaskEmail()
    plugin.configure({"field": "email"})
    value = ('{"email": "ann@ex.org", "deep": ' + _WITHIN + "}").encode()
    [out] = plugin.transform_batch([Record(value)])
    assert isinstance(out, Record)
    assert out.value == ('{"deep":' + _WITHIN + ',"email":"a***@ex.org"}').encode()


def test_count_sum_groups_by_a_value_as_deep_as_the_rules_allow() -> None:
    plugin = CountSum()
    plugin.configure({"group_by": "g", "sum_field": "n"})
    acc, outcomes = plugin.aggregate_batch(
        plugin.init(), [Record(('{"g": ' + _WITHIN + ', "n": 2}').encode())]
    )
    assert outcomes == [None]
    [record] = plugin.emit(acc)
    assert record.key == _WITHIN.encode()


def test_postgres_source_reports_a_deep_json_column_as_its_error(
    pg_dsn: str, table_name: str
) -> None:
    # psycopg parses jsonb with json.loads: the RecursionError used to escape the read.
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{table_name}" (id int, doc jsonb)')
        conn.execute(f'INSERT INTO "{table_name}" VALUES (1, %s::jsonb)', (nested(1500),))
    source = PostgresSource()
    source.configure({"dsn": pg_dsn, "table": table_name})
    source.connect()
    try:
        with pytest.raises(SerializationError, match="a json column is nested too deeply to parse"):
            source.read(10)
    finally:
        source.close()
