# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""Real pipelines end to end (files, SQLite), error policies, closing, back-pressure, resuming."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import dfpipe_plugins
import pytest
from dataflare import StageFailed
from dataflare.errors import PipelineError
from dataflare.pipeline import (
    META_KIND,
    META_MESSAGE,
    META_STAGE,
    load_plan,
    run_pipeline,
)
from support.stopping import run_stopping_after


def users(path: Path, n: int = 30) -> list[dict[str, object]]:
    rows = [
        {
            "id": i,
            "status": "active" if i % 3 else "inactive",
            "email": f"user{i}@example.com",
            "country": ["de", "fr", "us"][i % 3 if i % 2 else 0],
            "amount": i,
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def closed(path: Path) -> list[str]:
    return sorted(path.read_text().split()) if path.exists() else []


def test_files_to_files(tmp_path, write_yaml):
    rows = users(tmp_path / "users.jsonl")
    path = write_yaml(
        """
        name: users
        batch_size: 7
        sources:
          - id: users
            type: plugin
            config: {plugin_type: source, plugin_name: jsonl, params: {path: users.jsonl}}
        processors:
          - id: user_filter
            type: plugin
            config: {plugin_type: filter, plugin_name: json_filter, params: {field: status, value: active}}
          - id: mask
            type: plugin
            config: {plugin_type: transform, plugin_name: mask_email}
        sinks:
          - {id: jsonl_out, type: jsonl, config: {path: out/active.jsonl}}
          - {id: csv_out, type: csv, config: {path: out/active.csv, columns: "id,status,email,country,amount"}}
        """
    )
    stats = run_pipeline(path)
    active = [r for r in rows if r["status"] == "active"]
    written = lines(tmp_path / "out" / "active.jsonl")
    assert [r["id"] for r in written] == [r["id"] for r in active]
    assert all(
        r["email"] != f"user{r['id']}@example.com" and "@example.com" in str(r["email"])
        for r in written
    )
    with open(tmp_path / "out" / "active.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in table] == [r["id"] for r in active]
    assert [r["email"] for r in table] == [r["email"] for r in written]
    s = stats.stages
    assert (s["users"].records_out, s["user_filter"].records_in, s["user_filter"].records_out) == (
        30,
        30,
        20,
    )
    assert s["user_filter"].dropped == 10
    assert (s["mask"].records_in, s["mask"].records_out) == (20, 20)
    assert (s["jsonl_out"].records_out, s["csv_out"].records_out) == (20, 20)
    assert not stats.interrupted


def test_files_to_sqlite_with_aggregate(tmp_path, write_yaml):
    rows = users(tmp_path / "users.jsonl", 50)
    path = write_yaml(
        """
        sources:
          - {id: users, type: jsonl, config: {path: users.jsonl}}
        processors:
          - id: active
            type: plugin
            config: {plugin_type: filter, plugin_name: json_filter, params: {field: status, value: active}}
          - id: totals
            type: plugin
            config: {plugin_type: aggregate, plugin_name: count_sum, params: {group_by: country, sum_field: amount}}
        sinks:
          - id: db
            type: sqlite
            config: {path: out.db, table: totals, mode: upsert, upsert_key: group}
        """
    )
    stats = run_pipeline(path)
    expected: dict[str, list[float]] = {}
    for r in rows:
        if r["status"] == "active":
            entry = expected.setdefault(str(r["country"]), [0, 0])
            entry[0] += 1
            entry[1] += r["amount"]  # type: ignore[operator]
    with sqlite3.connect(tmp_path / "out.db") as db:
        got = {
            g: [c, s] for g, c, s in db.execute('SELECT "group", count, sum FROM totals ORDER BY 1')
        }
    assert got == expected
    assert stats.stages["totals"].records_in == sum(c for c, _ in expected.values())
    assert stats.stages["totals"].records_out == len(expected)
    # A rerun upserts the same groups: still one row per group.
    run_pipeline(path)
    with sqlite3.connect(tmp_path / "out.db") as db:
        assert db.execute("SELECT count(*) FROM totals").fetchone()[0] == len(expected)


def test_stages_after_an_aggregate_get_its_emitted_records(write_yaml):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 10}}
        processors:
          - {id: per_key, type: plugin, config: {plugin_type: aggregate, plugin_name: test_count_keys}}
          - {id: even, type: plugin, config: {plugin_type: filter, plugin_name: json_filter, params: {field: key, value: "1"}}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """
    )
    run_pipeline(path)
    got = [json.loads(r.value) for r in dfpipe_plugins.LogSink.RECEIVED]
    assert got == [{"key": "1", "count": 3}]


def test_every_sink_gets_every_record(write_yaml, tmp_path):
    path = write_yaml(
        """
        batch_size: 4
        sources:
          - {id: a, type: test_range, config: {count: 9}}
          - {id: b, type: test_range, config: {count: 5}}
        sinks:
          - {id: one, type: jsonl, config: {path: one.jsonl}}
          - {id: two, type: jsonl, config: {path: two.jsonl}}
        """
    )
    stats = run_pipeline(path)
    one, two = lines(tmp_path / "one.jsonl"), lines(tmp_path / "two.jsonl")
    assert one == two
    assert sorted(r["n"] for r in one) == sorted([*range(9), *range(5)])
    assert stats.records_read == 14


def test_skip_policy_counts_and_drops(write_yaml):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 20}}
        processors:
          - {id: picky, type: plugin, on_error: skip, config: {plugin_type: filter, plugin_name: test_fail_on, params: {every: 5}}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """
    )
    stats = run_pipeline(path)
    assert [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED] == [
        n for n in range(20) if n % 5
    ]
    assert (stats.stages["picky"].errors, stats.stages["picky"].records_out) == (4, 16)


def test_fail_policy_stops_with_the_stage_and_message(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 20, closed_path: closed.txt, tag: src}}
        processors:
          - id: picky
            type: plugin
            config: {plugin_type: filter, plugin_name: test_fail_on, params: {every: 7, closed_path: closed.txt, tag: picky}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log, params: {closed_path: closed.txt, tag: log}}}
        """
    )
    with pytest.raises(StageFailed) as info:
        run_pipeline(path)
    assert str(info.value) == "stage 'picky' failed on a record: processing: n=0 is a multiple of 7"
    assert (info.value.stage, info.value.kind) == ("picky", "processing")
    assert closed(tmp_path / "closed.txt") == ["log", "picky", "src"]


def test_dead_letter_gets_the_record_stage_kind_and_message(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 12}}
        processors:
          - id: picky
            type: plugin
            on_error: dead_letter
            dead_letter: rejects
            config: {plugin_type: filter, plugin_name: test_fail_on, params: {every: 4}}
        sinks:
          - {id: good, type: jsonl, config: {path: good.jsonl}}
          - {id: rejects, type: jsonl, config: {path: rejects.jsonl, format: record}}
        """
    )
    stats = run_pipeline(path)
    assert [r["n"] for r in lines(tmp_path / "good.jsonl")] == [n for n in range(12) if n % 4]
    letters = lines(tmp_path / "rejects.jsonl")
    assert [json.loads(letter["value"])["n"] for letter in letters] == [0, 4, 8]
    assert letters[1]["key"] == "1"
    assert letters[1]["metadata"] == {
        META_STAGE: "picky",
        META_KIND: "processing",
        META_MESSAGE: "n=4 is a multiple of 4",
    }
    assert stats.stages["picky"].errors == 3
    assert (stats.stages["rejects"].records_in, stats.stages["rejects"].records_out) == (3, 3)
    assert stats.stages["good"].records_in == 9


def test_sink_errors_follow_the_sink_policy(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 6}}
        sinks:
          - id: log
            type: plugin
            on_error: dead_letter
            dead_letter: rejects
            config: {plugin_type: sink, plugin_name: test_log, params: {reject: '"n": 3'}}
          - {id: rejects, type: jsonl, config: {path: rejects.jsonl, format: record}}
        """
    )
    stats = run_pipeline(path)
    assert len(dfpipe_plugins.LogSink.RECEIVED) == 5
    (letter,) = lines(tmp_path / "rejects.jsonl")
    assert letter["value"] == '{"n": 3}'
    assert letter["metadata"][META_STAGE] == "log"
    assert letter["metadata"][META_MESSAGE] == "rejected b'{\"n\": 3}'"
    assert (stats.stages["log"].records_out, stats.stages["log"].errors) == (5, 1)


def test_serialization_errors_in_a_file_sink_are_per_record(write_yaml, tmp_path):
    # Envelopes: a value line that is not JSON would be refused by the source itself.
    values = ['{"a": 1}', "not json", '{"a": 2}']
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"value": v}) + "\n" for v in values))
    path = write_yaml(
        """
        sources:
          - {id: src, type: jsonl, config: {path: in.jsonl, format: record}}
        sinks:
          - {id: out, type: jsonl, on_error: skip, config: {path: out.jsonl}}
        """
    )
    stats = run_pipeline(path)
    assert lines(tmp_path / "out.jsonl") == [{"a": 1}, {"a": 2}]
    assert stats.stages["out"].errors == 1


def test_a_broken_batch_contract_fails_clearly(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 3, closed_path: closed.txt, tag: src}}
        processors:
          - {id: bad, type: plugin, on_error: skip, config: {plugin_type: transform, plugin_name: test_bad_batch}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log, params: {closed_path: closed.txt, tag: log}}}
        """
    )
    with pytest.raises(
        StageFailed,
        match=r"stage 'bad' broke the batch contract: processing: returned 2 outcomes for a batch of 3 records",
    ):
        run_pipeline(path)
    assert closed(tmp_path / "closed.txt") == ["log", "src"]


def test_every_plugin_closed_on_success(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 3, closed_path: closed.txt, tag: src}}
        processors:
          - {id: even, type: plugin, config: {plugin_type: filter, plugin_name: test_even, params: {closed_path: closed.txt, tag: even}}}
          - {id: sq, type: plugin, config: {plugin_type: transform, plugin_name: test_square, params: {closed_path: closed.txt, tag: sq}}}
          - {id: agg, type: plugin, config: {plugin_type: aggregate, plugin_name: test_count_keys, params: {closed_path: closed.txt, tag: agg}}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log, params: {closed_path: closed.txt, tag: log}}}
        """
    )
    run_pipeline(path)
    assert closed(tmp_path / "closed.txt") == ["agg", "even", "log", "sq", "src"]


def test_plugins_built_before_a_config_error_are_closed(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 3, closed_path: closed.txt, tag: src}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: nope}}
        """
    )
    with pytest.raises(PipelineError, match="no sink plugin named 'nope'"):
        load_plan(path)
    assert closed(tmp_path / "closed.txt") == ["src"]


def test_a_slow_sink_slows_the_source(write_yaml):
    """Pull-based: the source is never more than one batch ahead of the sinks."""
    path = write_yaml(
        """
        batch_size: 10
        sources:
          - {id: nums, type: test_range, config: {count: 95}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """
    )
    run_pipeline(path)
    read = written = 0
    for what, count in dfpipe_plugins.EVENTS:
        if what == "read":
            read += count
            assert read - written <= 10, dfpipe_plugins.EVENTS
        else:
            written += count
    assert read == written == 95


def test_a_stop_request_finishes_the_batch_and_skips_aggregates(write_yaml, tmp_path):
    path = write_yaml(
        """
        batch_size: 5
        sources:
          - {id: nums, type: test_range, config: {count: 1000}}
        processors:
          - {id: agg, type: plugin, config: {plugin_type: aggregate, plugin_name: test_count_keys}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """
    )
    stats = run_stopping_after(path, 15)
    assert stats.interrupted
    assert stats.records_read == 15
    assert dfpipe_plugins.LogSink.RECEIVED == []
    assert not (tmp_path / ".dataflare" / "pipeline.state.json").exists()


def test_positions_are_saved_and_restored(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 4}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """
    )
    run_pipeline(path)
    state = json.loads((tmp_path / ".dataflare" / "pipeline.state.json").read_text())
    assert state["sources"]["nums"]["plugin"] == "native:test_range"
    assert len(dfpipe_plugins.LogSink.RECEIVED) == 4
    path.write_text(path.read_text().replace("count: 4", "count: 7"))
    run_pipeline(path)
    assert [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED] == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
    ]


def test_state_file_location_is_configurable(write_yaml, tmp_path):
    path = write_yaml(
        """
        state: run/positions.json
        sources:
          - {id: nums, type: test_range, config: {count: 2}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """
    )
    run_pipeline(path)
    assert (tmp_path / "run" / "positions.json").is_file()


def test_a_damaged_state_file_is_reported(write_yaml, tmp_path):
    path = write_yaml(
        """
        state: positions.json
        sources:
          - {id: nums, type: test_range, config: {count: 2}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """
    )
    (tmp_path / "positions.json").write_text('{"version": 1, "sources": {"nums": {"plugin": 1}}}')
    with pytest.raises(PipelineError, match=r"positions\.json is damaged"):
        run_pipeline(path)


def test_a_trapping_batch_is_bisected_down_to_the_poison_record(write_yaml, tmp_path):
    path = write_yaml(
        """
        batch_size: 4
        sources:
          - {id: nums, type: test_range, config: {count: 10}}
        processors:
          - {id: trappy, type: plugin, on_error: dead_letter, dead_letter: dlq, config: {plugin_type: transform, plugin_name: test_trap, params: {at: 5}}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
          - {id: dlq, type: jsonl, config: {path: dlq.jsonl, format: record}}
        """
    )
    stats = run_pipeline(path)
    received = [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED]
    assert received == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    letters = lines(tmp_path / "dlq.jsonl")
    assert [json.loads(x["value"])["n"] for x in letters] == [5]
    assert letters[0]["metadata"]["dataflare.error.kind"] == "trap"
    assert letters[0]["metadata"]["dataflare.error.message"] == "wasm trap: unreachable"
    assert stats.stages["trappy"].errors == 1
    # [4,5,6,7] trapped, then [4,5], then [5] alone.
    assert stats.stages["trappy"].traps == 3


def test_a_sink_failing_a_whole_batch_stops_the_run(write_yaml, tmp_path):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 3, closed_path: closed.txt, tag: src}}
        sinks:
          - {id: db, type: plugin, config: {plugin_type: sink, plugin_name: test_down, params: {closed_path: closed.txt, tag: db}}}
        """
    )
    with pytest.raises(StageFailed, match="stage 'db' failed on a record: io: connection refused"):
        run_pipeline(path)
    assert closed(tmp_path / "closed.txt") == ["db", "src"]


def test_progress_renders_counts_on_a_terminal():
    import io

    from dataflare.cli.run_display import Progress
    from dataflare.pipeline.stats import RunStats
    from rich.console import Console

    stats = RunStats()
    stats.add("src", "source", "source").records_out = 1234
    stats.add("f", "filter", "processor").records_in = 1234
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with Progress(stats, console, enabled=True) as progress:
        progress.update(stats)
    assert "1,234 records read" in buffer.getvalue()
    quiet = io.StringIO()
    with Progress(stats, Console(file=quiet, force_terminal=True), enabled=False) as progress:
        progress.update(stats)
    assert quiet.getvalue() == ""
