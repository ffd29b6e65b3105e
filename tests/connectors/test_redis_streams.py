"""The ``redis`` source and sink against a real redis-server: mapping, acks, replay, errors."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
import redis
from dataflare.columns import END, PENDING, to_records
from dataflare.connectors.redis_streams import (
    RedisStreamSink,
    RedisStreamSource,
    boundaries_key,
    entries_batch,
    entry_record,
)
from dataflare.errors import ConfigurationError, PluginError, ProcessingError, StageFailed
from dataflare.model import ParamInfo, Record
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan
from dataflare.plugins.base import FilterBase
from dataflare.plugins.registry import register
from hypothesis import given, settings
from hypothesis import strategies as st
from support.redis import produce, value_of


@pytest.fixture
def stream() -> str:
    """A stream name no other test uses."""
    return f"s-{uuid.uuid4().hex[:12]}"


def _source(url: str, stream: str, **params: str) -> RedisStreamSource:
    source = RedisStreamSource()
    source.configure({"url": url, "stream": stream, "follow": "false", **params})
    source.connect()
    return source


def _pending(url: str, stream: str, group: str = "dataflare") -> int:
    info = redis.Redis.from_url(url).xpending(stream, group)
    return int(info["pending"])


def _xadd(url: str, stream: str, count: int) -> None:
    client = redis.Redis.from_url(url)
    for i in range(count):
        client.xadd(stream, {"value": value_of(i)})


def _read_all(source: RedisStreamSource, size: int = 1000) -> list[Record]:
    out: list[Record] = []
    while True:
        batch = source.read_columns(size)
        if batch is END or batch is PENDING:
            return out
        out.extend(to_records(batch))


_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8).filter(
    lambda n: n not in ("value", "key", "timestamp")
)
_records = st.builds(
    Record,
    value=st.binary(max_size=40),
    key=st.none() | st.binary(max_size=10),
    timestamp=st.integers(-(2**63), 2**63 - 1),
    metadata=st.dictionaries(_names, st.text(st.characters(codec="utf-8"), max_size=8), max_size=3),
)


@settings(max_examples=25)
@given(records=st.lists(_records, min_size=1, max_size=20))
def test_records_go_through_a_stream_unchanged(redis_server, records):
    stream = f"s-{uuid.uuid4().hex[:12]}"
    sink = RedisStreamSink()
    sink.configure({"url": redis_server, "stream": stream})
    sink.connect()
    assert sink.write_batch(records) == [None] * len(records)
    sink.close()
    source = _source(redis_server, stream)
    try:
        assert _read_all(source, 7) == records
    finally:
        source.close()


_field_names = st.sampled_from([b"value", b"key", b"timestamp", b"region", b"\xff"])
_field_values = st.binary(max_size=6) | st.integers(-(2**64), 2**64).map(lambda n: b"%d" % n)
_entry_lists = st.lists(
    st.tuples(
        st.integers(0, 2**40).map(lambda ms: b"%d-0" % ms),
        st.dictionaries(_field_names, _field_values, min_size=1, max_size=4),
    ),
    max_size=6,
)


@given(entries=_entry_lists)
def test_a_batch_of_entries_holds_what_each_entry_maps_to(entries):
    assert to_records(entries_batch(entries)) == [entry_record(i, f) for i, f in entries]


def test_an_entry_without_a_value_field_becomes_a_json_object_stamped_with_its_id():
    record = entry_record(b"1700000000123-4", {b"temp": b"21", b"city": b"Oslo"})
    assert json.loads(record.value) == {"temp": "21", "city": "Oslo"}
    assert record.timestamp == 1700000000123
    assert record.key is None and record.metadata == {}


def test_metadata_named_like_a_reserved_field_fails_that_record_alone(redis_server, stream):
    sink = RedisStreamSink()
    sink.configure({"url": redis_server, "stream": stream})
    sink.connect()
    outcomes = sink.write_batch([Record(value=b"1"), Record(value=b"2", metadata={"key": "x"})])
    sink.close()
    assert outcomes[0] is None
    assert isinstance(outcomes[1], PluginError) and "'key'" in str(outcomes[1])
    assert redis.Redis.from_url(redis_server).xlen(stream) == 1


def test_entries_read_but_not_committed_stay_pending_and_come_again(redis_server, stream):
    _xadd(redis_server, stream, 10)
    first = _source(redis_server, stream)
    got = to_records(first.read_columns(4))
    first.close()  # a crash: the sinks committed nothing, so nothing was acknowledged
    assert _pending(redis_server, stream) == 4
    again = _source(redis_server, stream)
    assert to_records(again.read_columns(4)) == got  # redelivered to the same consumer
    again.close()


def test_a_restarted_consumer_gets_its_pending_entries_first_then_new_ones(redis_server, stream):
    _xadd(redis_server, stream, 10)
    first = _source(redis_server, stream)
    first.read_columns(4)
    first.close()  # crashed before the sinks committed
    again = _source(redis_server, stream)
    values = [json.loads(r.value)["n"] for r in _read_all(again, 3)]
    assert values == list(range(10))
    assert _pending(redis_server, stream) == 10  # still nothing committed
    again.committed(again.checkpoint())
    assert _pending(redis_server, stream) == 0
    assert (
        redis.Redis.from_url(redis_server).llen(boundaries_key(stream, "dataflare", "dataflare"))
        == 0
    )
    again.close()


def test_a_restore_skips_and_acknowledges_what_the_saved_position_covers(redis_server, stream):
    _xadd(redis_server, stream, 10)
    first = _source(redis_server, stream)
    first.read_columns(4)
    saved = first.checkpoint()  # the state file holds this; the crash came before XACK
    first.read_columns(3)
    first.close()
    assert _pending(redis_server, stream) == 7
    again = _source(redis_server, stream)
    again.restore(saved)
    values = [json.loads(r.value)["n"] for r in _read_all(again, 3)]
    assert values == list(range(4, 10))
    assert _pending(redis_server, stream) == 6


def test_a_replay_cuts_the_pending_entries_where_the_crashed_run_cut_them(redis_server, stream):
    _xadd(redis_server, stream, 3)
    first = _source(redis_server, stream)
    assert first.read_columns(100).num_rows == 3  # a short batch: all there was
    _xadd(redis_server, stream, 5)
    assert first.read_columns(100).num_rows == 5
    first.close()
    again = _source(redis_server, stream)
    # the same batch size reads 8 pending entries, but a sink may hold the batch of 3
    assert [b.num_rows for b in (again.read_columns(100), again.read_columns(100))] == [3, 5]
    again.close()


def test_a_position_for_another_stream_is_refused(redis_server, stream):
    source = _source(redis_server, stream)
    other = _source(redis_server, stream + "x")
    with pytest.raises(PluginError, match="delete the state file"):
        other.restore(source.checkpoint())
    source.close()
    other.close()


def test_following_answers_pending_when_nothing_is_new(redis_server, stream):
    source = _source(redis_server, stream, follow="true", block_ms="10")
    assert source.read_columns(10) is PENDING
    _xadd(redis_server, stream, 2)
    assert source.read_columns(10).num_rows == 2
    source.close()


@pytest.mark.parametrize("bad", [{"block_ms": "0"}, {"follow": "yes"}, {"url": "http://x"}])
def test_bad_parameters_are_refused_when_configured(bad):
    source = RedisStreamSource()
    with pytest.raises(ConfigurationError, match="plugin 'redis'"):
        source.configure({"stream": "s", **bad})


def _pipeline(tmp_path: Path, source: str, sink: str, name: str = "p") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"batch_size: 50\nstate: state.json\nsources:\n  - {source}\nsinks:\n  - {sink}\n"
    )
    return path


def test_a_server_that_does_not_answer_stops_the_run_naming_the_stage(tmp_path):
    path = _pipeline(
        tmp_path,
        "{id: events, type: redis, config: {url: 'redis://:hunter2@127.0.0.1:9/0', stream: s}}",
        "{id: out, type: jsonl, config: {path: out.jsonl}}",
    )
    with pytest.raises(StageFailed) as info:
        Executor(load_plan(path)).run()
    message = str(info.value)
    assert "'events'" in message and "cannot connect to 127.0.0.1 port 9 database 0" in message
    assert "hunter2" not in message


def test_a_pipeline_copies_one_stream_into_another_and_acknowledges_it(
    redis_server, stream, tmp_path
):
    _xadd(redis_server, stream, 120)
    path = _pipeline(
        tmp_path,
        f"{{id: src, type: redis, config: {{url: '{redis_server}', stream: {stream}, "
        "follow: false}}",
        f"{{id: dst, type: redis, config: {{url: '{redis_server}', stream: {stream}-copy}}}}",
    )
    assert Executor(load_plan(path)).run().records_read == 120
    client = redis.Redis.from_url(redis_server)
    copied = [fields[b"value"] for _, fields in client.xrange(f"{stream}-copy")]
    assert copied == [value_of(i) for i in range(120)]
    assert _pending(redis_server, stream) == 0


@register("filter", "redis_test_fails_at")
class FailsAt(FilterBase):
    """Fails the record whose n is `n` while the file `armed` exists."""

    params = (ParamInfo("n", "", required=True), ParamInfo("armed", "", required=True))

    def filter(self, record: Record) -> bool:
        if Path(self.param("armed")).exists() and json.loads(record.value)["n"] == int(
            self.param("n")
        ):
            raise ProcessingError("armed")
        return True


def test_a_failed_run_leaves_the_uncommitted_entries_pending_for_the_rerun(
    redis_server, stream, tmp_path
):
    produce(redis_server, stream, 200, rate=1e6).join()
    armed = tmp_path / "armed"
    armed.touch()
    path = tmp_path / "p.yaml"
    path.write_text(
        "batch_size: 50\n"
        f"sources:\n  - {{id: src, type: redis, config: {{url: '{redis_server}', "
        f"stream: {stream}, follow: false}}}}\n"
        "processors:\n  - {id: f, type: plugin, config: {plugin_type: filter, "
        f"plugin_name: redis_test_fails_at, params: {{n: 120, armed: '{armed}'}}}}}}\n"
        f"sinks:\n  - {{id: db, type: sqlite, config: {{path: out.db, table: t}}}}\n"
    )
    with pytest.raises(StageFailed, match="armed"):
        Executor(load_plan(path)).run()
    # two batches of 50 committed and acknowledged; the failed third is still pending
    assert _pending(redis_server, stream) == 50
    armed.unlink()
    Executor(load_plan(path)).run()
    with sqlite3.connect(tmp_path / "out.db") as conn:
        rows = [n for (n,) in conn.execute("SELECT n FROM t ORDER BY n")]
    assert rows == list(range(200))
    assert _pending(redis_server, stream) == 0


def test_pending_entries_deleted_from_the_stream_do_not_end_it(redis_server, stream):
    _xadd(redis_server, stream, 3)
    first = _source(redis_server, stream)
    first.read_columns(2)
    first.close()
    client = redis.Redis.from_url(redis_server)
    for entry_id, _ in client.xrange(stream, count=2):
        client.xdel(stream, entry_id)
    again = _source(redis_server, stream)
    assert again.read_columns(2) is PENDING  # both pending entries are gone: nothing yet
    assert [json.loads(r.value)["n"] for r in _read_all(again)] == [2]
    again.committed(again.checkpoint())
    assert _pending(redis_server, stream) == 0
    again.close()


@pytest.mark.parametrize("text", [b"soon", b"99999999999999999999", b"1e3", b""])
def test_a_timestamp_field_that_is_no_64_bit_integer_gives_way_to_the_id(text):
    record = entry_record(b"5-0", {b"value": b"1", b"timestamp": text})
    assert record.timestamp == 5


def test_the_redis_example_runs_with_only_its_url_and_follow_changed(
    redis_server, stream, tmp_path
):
    examples = Path(__file__).resolve().parents[2] / "examples"
    path = tmp_path / "examples" / "redis_events.yaml"
    path.parent.mkdir()
    text = (examples / "redis_events.yaml").read_text()
    text = text.replace("redis://localhost:6379/0", redis_server).replace(
        "stream: events", f"stream: {stream}"
    )
    path.write_text(text.replace("follow: true", "follow: false"))
    client = redis.Redis.from_url(redis_server)
    for user, status in [("ada", "active"), ("alan", "gone"), ("grace", "active")]:
        client.xadd(stream, {"value": json.dumps({"user": user, "status": status})})
    assert Executor(load_plan(path)).run().stages["active"].records_out == 2
    with sqlite3.connect(tmp_path / "build" / "examples" / "redis_events.db") as db:
        assert [u for (u,) in db.execute("SELECT user FROM users")] == ["ada", "grace"]
    assert _pending(redis_server, stream) == 0


class _Crash(BaseException):
    """Ends a run the way SIGKILL would, between the sink's commit and the state file's."""


def test_a_crash_between_the_sql_commit_and_the_state_file_repeats_nothing(
    redis_server, stream, tmp_path, monkeypatch
):
    from dataflare.pipeline import executor
    from dataflare.pipeline.prefetch import ReadAhead
    from dataflare.pipeline.state import StateFile

    # read ahead as with a WASM stage: the PEL then holds batches after the one in flight,
    # and `committed` runs on the main thread while the source reads on its own
    monkeypatch.setattr(executor, "ReadInline", ReadAhead)
    real_save, saves = StateFile.save, []

    def save_then_crash(self, *args, **kwargs):
        saves.append(1)
        if len(saves) == 6:
            raise _Crash
        real_save(self, *args, **kwargs)

    monkeypatch.setattr(StateFile, "save", save_then_crash)
    producer = produce(redis_server, stream, 1500, rate=3000.0, chunk=7)

    def pipeline(follow: str) -> Path:
        path = tmp_path / f"{follow}.yaml"
        path.write_text(
            "batch_size: 64\nstate: state.json\n"
            f"sources:\n  - {{id: src, type: redis, config: {{url: '{redis_server}', "
            f"stream: {stream}, follow: {follow}, block_ms: 5}}}}\n"
            "sinks:\n  - {id: db, type: sqlite, config: {path: out.db, table: t}}\n"
        )
        return path

    with pytest.raises(_Crash):
        Executor(load_plan(pipeline("true"))).run()
    monkeypatch.setattr(StateFile, "save", real_save)
    producer.join()
    with sqlite3.connect(tmp_path / "out.db") as db:
        ahead = db.execute("SELECT count(*) FROM t").fetchone()[0]
    assert 0 < ahead < 1500  # the sink holds the batch the state file lacks
    Executor(load_plan(pipeline("false"))).run()
    with sqlite3.connect(tmp_path / "out.db") as db:
        assert [n for (n,) in db.execute("SELECT n FROM t ORDER BY n")] == list(range(1500))
    assert _pending(redis_server, stream) == 0
