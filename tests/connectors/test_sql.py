"""SQLite and PostgreSQL connectors against real databases (PostgreSQL: a real server)."""

from __future__ import annotations

import json
import math
import sqlite3
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from dataflare.columns import PENDING
from dataflare.connectors import PostgresSink, PostgresSource, SqliteSink, SqliteSource, _sql_source
from dataflare.connectors._rows import FieldsCodec, envelope_row_to_record, record_to_envelope_row
from dataflare.errors import ConfigurationError, PluginIoError, ProcessingError
from dataflare.model import Record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class Db:
    """One database under test: how to make configured plugins and run raw SQL."""

    def __init__(
        self, name: str, conn: dict[str, str], execute: Callable[[str], list[tuple]]
    ) -> None:
        self.name = name
        self.conn = conn
        self.execute = execute

    def sink(self, **params: str) -> SqliteSink | PostgresSink:
        sink = (SqliteSink if self.name == "sqlite" else PostgresSink)()
        sink.configure({**self.conn, **params})
        sink.connect()
        return sink

    def source(self, **params: str) -> SqliteSource | PostgresSource:
        source = (SqliteSource if self.name == "sqlite" else PostgresSource)()
        source.configure({**self.conn, **params})
        source.connect()
        return source


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory) -> Db:
    path = tmp_path_factory.mktemp("sqlite") / "db.sqlite"
    sqlite3.connect(path).close()

    def execute(sql: str) -> list[tuple]:
        with sqlite3.connect(path) as conn:
            return conn.execute(sql).fetchall()

    return Db("sqlite", {"path": str(path)}, execute)


@pytest.fixture(scope="module")
def postgres_db(pg_dsn) -> Db:
    def execute(sql: str) -> list[tuple]:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    return Db("postgres", {"dsn": pg_dsn}, execute)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request) -> Db:
    return request.getfixturevalue(f"{request.param}_db")


def read_all(source, batch: int = 2) -> list[Record]:
    out = []
    while chunk := source.read(batch):
        out.extend(chunk)
    return out


def values(records: list[Record]) -> list[dict]:
    return [json.loads(r.value) for r in records]


def test_fields_sink_creates_the_table_and_source_reads_it_back(db, table_name):
    sink = db.sink(table=table_name, key_column="k")
    docs = [
        {"id": 1, "name": "ada", "score": 9.5, "ok": True},
        {"id": 2, "name": None, "score": 1.0, "ok": False},
    ]
    outcomes = sink.write_batch(
        [Record(json.dumps(d).encode(), key=f"key{d['id']}".encode()) for d in docs]
    )
    sink.close()
    assert outcomes == [None, None]
    source = db.source(table=table_name, key_column="k")
    records = read_all(source)
    source.close()
    got = values(records)
    if db.name == "sqlite":  # no boolean type: 1/0 come back
        docs = [{**d, "ok": int(d["ok"])} for d in docs]
    assert got == [{**d, "k": f"key{d['id']}"} for d in docs]
    assert [r.key for r in records] == [b"key1", b"key2"]


def test_record_format_is_lossless(db, table_name):
    records = [
        Record(
            b"\x00\xffbytes", key=b"\x01", timestamp=-(2**63), metadata={"b": "1", "a": "\u00e9"}
        ),
        Record(b"{}", key=None, timestamp=None),
    ]
    sink = db.sink(table=table_name, format="record")
    assert sink.write_batch(records) == [None, None]
    sink.close()
    source = db.source(table=table_name, format="record")
    assert read_all(source) == records
    source.close()


def test_upsert_updates_rows_by_key(db, table_name):
    sink = db.sink(table=table_name, mode="upsert", upsert_key="id")
    sink.write_batch([Record(b'{"id": 1, "v": "a"}'), Record(b'{"id": 2, "v": "b"}')])
    sink.write_batch([Record(b'{"id": 1, "v": "c"}')])
    sink.close()
    assert sorted(db.execute(f'SELECT id, v FROM "{table_name}"')) == [(1, "c"), (2, "b")]


def test_a_rejected_record_fails_alone(db, table_name):
    db.execute(f'CREATE TABLE "{table_name}" (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
    sink = db.sink(table=table_name)
    outcomes = sink.write_batch(
        [
            Record(b'{"id": 1, "v": "a"}'),
            Record(b'{"id": 2}'),
            Record(b'{"id": 3, "v": "c", "extra": 1}'),
            Record(b"not json"),
            Record(b'{"id": 1, "v": "dup"}'),
            Record(b'{"id": 4, "v": "d"}'),
        ]
    )
    sink.close()
    assert outcomes[0] is None and outcomes[5] is None
    assert isinstance(outcomes[1], ProcessingError) and "rejected the record" in outcomes[1].message
    assert outcomes[2].message.startswith(f"field(s) extra have no column in table '{table_name}'")
    assert outcomes[3].kind == "serialization"
    assert isinstance(outcomes[4], ProcessingError)
    assert sorted(db.execute(f'SELECT id, v FROM "{table_name}"')) == [(1, "a"), (4, "d")]


def test_incremental_source_resumes_after_the_last_row(db, table_name):
    sink = db.sink(table=table_name)
    sink.write_batch([Record(json.dumps({"id": i, "v": f"r{i}"}).encode()) for i in (3, 1, 2)])
    source = db.source(table=table_name, incremental_column="id")
    assert [d["id"] for d in values(read_all(source))] == [1, 2, 3]
    position = source.checkpoint()
    source.close()
    assert json.loads(position) == {"column": "id", "after": 3}
    sink.write_batch([Record(json.dumps({"id": i, "v": "new"}).encode()) for i in (5, 4)])
    sink.close()
    again = db.source(table=table_name, incremental_column="id")
    again.restore(position)
    assert [d["id"] for d in values(read_all(again))] == [4, 5]
    assert json.loads(again.checkpoint())["after"] == 5
    again.close()


class FakeClock:
    """`time` for the SQL source: `monotonic` moves only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_sql_source, "time", fake)
    return fake


def polled_ids(source, batch: int) -> list[int]:
    """Rows readable now, up to the first PENDING."""
    out = []
    while (read := source.read_columns_batch(batch)) is not PENDING:
        assert read.batch.num_rows, "a polling source never ends"
        out += [json.loads(v)["id"] for v in read.batch.column("value").to_pylist()]
    return out


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rounds=st.lists(st.integers(0, 7), min_size=1, max_size=5), batch=st.integers(1, 4))
def test_polling_sees_new_rows_between_pending_reads(db, clock, rounds, batch):
    table = f"t_{uuid.uuid4().hex[:12]}"
    db.execute(f'CREATE TABLE "{table}" (id INTEGER, v TEXT)')
    source = db.source(table=table, incremental_column="id", poll_interval_ms="500")
    assert source.unbounded()
    written: list[int] = []
    got: list[int] = []
    try:
        assert polled_ids(source, batch) == []  # the first poll is at once: nothing yet
        for count in rounds:
            new = list(range(len(written) + 1, len(written) + count + 1))
            for i in new:
                db.execute(f"INSERT INTO \"{table}\" VALUES ({i}, 'x')")
            written += new
            assert polled_ids(source, batch) == []  # the interval has not passed
            clock.now += 0.5
            got += polled_ids(source, batch)
            assert got == written
        clock.now += 0.5
        assert polled_ids(source, batch) == []  # nothing new: the poll finds nothing
    finally:
        source.close()
    assert json.loads(source.checkpoint() or b'{"after": 0}')["after"] == (written or [0])[-1]


def test_poll_interval_needs_an_incremental_column_and_a_positive_whole_number(db, table_name):
    for params, message in [
        ({"poll_interval_ms": "100"}, "poll_interval_ms needs incremental_column"),
        ({"poll_interval_ms": "0", "incremental_column": "id"}, "whole number of milliseconds"),
        ({"poll_interval_ms": "1.5", "incremental_column": "id"}, "whole number of milliseconds"),
    ]:
        source = (SqliteSource if db.name == "sqlite" else PostgresSource)()
        with pytest.raises(ConfigurationError, match=message) as info:
            source.configure({**db.conn, "table": table_name, **params})
        assert info.value.param == "poll_interval_ms"


def test_query_source(db, table_name):
    sink = db.sink(table=table_name)
    sink.write_batch([Record(json.dumps({"id": i, "even": i % 2 == 0}).encode()) for i in range(6)])
    sink.close()
    source = db.source(query=f'SELECT id FROM "{table_name}" WHERE id > 2', incremental_column="id")
    assert values(read_all(source)) == [{"id": 3}, {"id": 4}, {"id": 5}]
    source.close()


def test_restore_refuses_a_position_of_another_column(db, table_name):
    db.execute(f'CREATE TABLE "{table_name}" (id INTEGER)')
    source = db.source(table=table_name, incremental_column="id")
    with pytest.raises(ProcessingError, match="saved position is for column 'ts'"):
        source.restore(b'{"column": "ts", "after": 1}')
    source.close()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "give exactly one of table and query"),
        ({"table": "a", "query": "select 1"}, "give exactly one of table and query"),
        ({"table": "a", "format": "xml"}, "format must be one of fields, record"),
    ],
)
def test_source_parameter_errors(sqlite_db, params, message):
    with pytest.raises(ConfigurationError, match=message):
        SqliteSource().configure({**sqlite_db.conn, **params})


def test_upsert_needs_a_key(sqlite_db):
    with pytest.raises(ConfigurationError, match="mode upsert needs upsert_key"):
        SqliteSink().configure({**sqlite_db.conn, "table": "t", "mode": "upsert"})


def test_missing_table_without_create(sqlite_db):
    sink = SqliteSink()
    sink.configure({**sqlite_db.conn, "table": "absent", "create": "false"})
    with pytest.raises(PluginIoError, match="table 'absent' does not exist and create is false"):
        sink.connect()
    sink.close()


def test_unreachable_postgres_is_an_io_error():
    source = PostgresSource()
    source.configure({"host": "127.0.0.1", "port": "1", "database": "x", "table": "t"})
    with pytest.raises(PluginIoError, match="plugin 'postgres'"):
        source.connect()
    source.close()


json_scalars = st.one_of(
    st.none(),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(
        lambda f: f != 0 or math.copysign(1, f) > 0
    ),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
)
field_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@given(doc=st.dictionaries(field_names, json_scalars, min_size=1, max_size=6))
def test_fields_codec_round_trips_scalars(doc):
    codec = FieldsCodec()
    row = codec.to_row(Record(json.dumps(doc).encode()))
    assert json.loads(codec.from_row(row).value) == doc


records = st.builds(
    Record,
    value=st.binary(max_size=30),
    key=st.none() | st.binary(max_size=8),
    timestamp=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    metadata=st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
)


@given(record=records)
def test_envelope_row_codec_round_trips(record):
    assert envelope_row_to_record(record_to_envelope_row(record)) == record


@pytest.fixture(scope="module")
def typed_tables(request) -> Iterator[Callable[[Db], str]]:
    made: dict[str, str] = {}

    def table_for(db: Db) -> str:
        if db.name not in made:
            made[db.name] = f"t_{uuid.uuid4().hex[:12]}"
            kinds = (
                "a BIGINT, b DOUBLE PRECISION, c TEXT"
                if db.name == "postgres"
                else "a INTEGER, b REAL, c TEXT"
            )
            db.execute(f'CREATE TABLE "{made[db.name]}" ({kinds}, n BIGINT)')
        return made[db.name]

    yield table_for


@settings(max_examples=25)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "a": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
                "b": st.none() | st.floats(allow_nan=False, allow_infinity=False),
                "c": st.none()
                | st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
            },
        ),
        min_size=1,
        max_size=5,
    )
)
def test_rows_survive_a_database_round_trip(db, typed_tables, rows):
    table = typed_tables(db)
    db.execute(f'DELETE FROM "{table}"')
    numbered = [{**row, "n": i} for i, row in enumerate(rows)]
    sink = db.sink(table=table)
    assert sink.write_batch([Record(json.dumps(r).encode()) for r in numbered]) == [None] * len(
        rows
    )
    sink.close()
    source = db.source(table=table, incremental_column="n")
    got = values(read_all(source, batch=3))
    source.close()
    assert got == [{"a": None, "b": None, "c": None, **r} for r in numbered]
