# ruff: noqa: E501
"""The example pipelines in examples/ run as written; PostgreSQL to PostgreSQL resumes; WASM mixes with native."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from dataflare.pipeline import run_pipeline
from psycopg import conninfo
from support.guests import built_guest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of examples/ (unchanged files) whose ../build is inside tmp_path."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    return target


def pg_execute(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def test_issue_example_runs_unchanged(pg_dsn, examples, monkeypatch):
    """examples/users_postgres.yaml uses the issue's entries verbatim: localhost:5432, database mydb.

    .ci/start-postgres.sh puts the server on 5432 whenever that port is free;
    if something else holds it, only the port number in the copy is changed.
    """
    parts = conninfo.conninfo_to_dict(pg_dsn)
    path = examples / "users_postgres.yaml"
    assert path.read_bytes() == (EXAMPLES / "users_postgres.yaml").read_bytes()
    if (parts.get("host"), str(parts.get("port"))) != ("localhost", "5432"):
        path.write_text(path.read_text().replace("port: 5432", f"port: {parts.get('port')}"))
    mydb = conninfo.make_conninfo(pg_dsn, dbname="mydb")
    pg_execute(mydb, "DROP TABLE IF EXISTS users, active_users")
    pg_execute(mydb, "CREATE TABLE users (id serial PRIMARY KEY, name text, status text)")
    for name, status in [("ada", "active"), ("alan", "inactive"), ("grace", "active")]:
        pg_execute(mydb, "INSERT INTO users (name, status) VALUES (%s, %s)", (name, status))
    if parts.get("user") and "PGUSER" not in os.environ:
        monkeypatch.setenv("PGUSER", str(parts["user"]))  # the example names no user

    first = run_pipeline(path)
    assert first.stages["postgres_source"].records_out == 3
    assert pg_execute(mydb, "SELECT id, name FROM active_users ORDER BY id") == [
        (1, "ada"),
        (3, "grace"),
    ]

    pg_execute(mydb, "INSERT INTO users (name, status) VALUES ('linus', 'active'), ('ken', 'gone')")
    second = run_pipeline(path)
    assert second.stages["postgres_source"].records_out == 2  # only the new rows
    assert second.stages["user_filter"].records_out == 1
    assert pg_execute(mydb, "SELECT id, name FROM active_users ORDER BY id") == [
        (1, "ada"),
        (3, "grace"),
        (4, "linus"),
    ]
    assert run_pipeline(path).records_read == 0


def test_postgres_to_postgres_with_record_format_and_rerun(pg_dsn, write_yaml):
    src, dst = f"src_{uuid.uuid4().hex[:8]}", f"dst_{uuid.uuid4().hex[:8]}"
    pg_execute(pg_dsn, f"CREATE TABLE {src} (id bigint PRIMARY KEY, doc jsonb, at timestamptz)")
    pg_execute(
        pg_dsn,
        f"INSERT INTO {src} SELECT i, jsonb_build_object('n', i), to_timestamp(i) FROM generate_series(1, 25) i",
    )
    path = write_yaml(
        f"""
        batch_size: 4
        sources:
          - id: src
            type: postgres
            config:
              connection: {{dsn: "{pg_dsn}"}}
              params: {{table: {src}, incremental_column: id, key_column: id, timestamp_column: at}}
        processors:
          - {{id: even, type: plugin, config: {{plugin_type: filter, plugin_name: json_filter, params: {{field: id, value: "1"}}}}}}
        sinks:
          - id: dst
            type: postgres
            config:
              connection: {{dsn: "{pg_dsn}"}}
              params: {{table: {dst}, format: record, mode: upsert}}
        """
    )
    first = run_pipeline(path)
    assert first.records_read == 25
    rows = pg_execute(pg_dsn, f"SELECT key, value, timestamp FROM {dst}")
    assert rows == [(b"1", b'{"id":1,"doc":{"n":1},"at":"1970-01-01T00:00:01+00:00"}', 1000)]
    pg_execute(pg_dsn, f"INSERT INTO {src} VALUES (26, '{{}}', now()), (0, '{{}}', now())")
    second = run_pipeline(path)
    assert second.records_read == 1  # id 26; id 0 is behind the saved position
    pg_execute(pg_dsn, f"DROP TABLE {src}, {dst}")


def test_files_example(examples):
    stats = run_pipeline(examples / "files.yaml")
    out = examples.parent / "build" / "examples"
    active = [json.loads(line) for line in (out / "active_users.jsonl").read_text().splitlines()]
    assert [u["id"] for u in active] == [1, 3, 4, 7, 8]
    assert active[0]["email"] == "a***@example.org"
    (letter,) = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert letter["value"] == "not a json line"
    assert letter["metadata"]["dataflare.error.stage"] == "users"
    assert letter["metadata"]["dataflare.error.kind"] == "serialization"
    assert letter["metadata"]["dataflare.error.message"].endswith(
        "users.jsonl:6: invalid JSON: Expecting value: line 1 column 1 (char 0)"
    )
    assert stats.stages["rejects"].records_out == 1
    assert stats.stages["users"].errors == 1


@pytest.mark.guests
def test_mixed_native_and_wasm_match_all_native(examples):
    guests = examples.parent / "build" / "guests" / "python"
    guests.mkdir(parents=True)
    for name in ("json_filter", "count_sum"):
        shutil.copyfile(built_guest("python", name), guests / f"{name}.wasm")
    mixed = examples / "wasm_mixed.yaml"
    native = examples / "native_twin.yaml"
    native.write_text(
        mixed.read_text()
        .replace(
            "plugin_source: wasm\n      plugin_path: ../build/guests/python/json_filter.wasm",
            "plugin_name: json_filter",
        )
        .replace(
            "plugin_source: wasm\n      plugin_path: ../build/guests/python/count_sum.wasm",
            "plugin_name: count_sum",
        )
        .replace("users.db", "native.db")
    )
    assert "wasm" not in native.read_text().split("sources:")[1]
    wasm_stats = run_pipeline(mixed)
    native_stats = run_pipeline(native)
    out = examples.parent / "build" / "examples"
    query = 'SELECT "group", count, sum FROM users_per_country ORDER BY 1'
    with sqlite3.connect(out / "users.db") as a, sqlite3.connect(out / "native.db") as b:
        assert (
            a.execute(query).fetchall()
            == b.execute(query).fetchall()
            == [("FI", 1, 4), ("GB", 1, 1), ("US", 3, 18)]
        )
    for stage in ("active_only", "mask", "per_country", "db"):
        w, n = wasm_stats.stages[stage], native_stats.stages[stage]
        assert (w.records_in, w.records_out, w.dropped, w.errors) == (
            n.records_in,
            n.records_out,
            n.dropped,
            n.errors,
        )


@pytest.mark.guests
def test_wasm_plugin_logs_are_tagged_with_the_stage(examples):
    guests = examples.parent / "build" / "guests" / "python"
    guests.mkdir(parents=True)
    for name in ("json_filter", "count_sum"):
        shutil.copyfile(built_guest("python", name), guests / f"{name}.wasm")
    proc = subprocess.run(
        [sys.executable, "-m", "dataflare", "run", "-vv", "-q", str(examples / "wasm_mixed.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert (
        "debug: [active_only] dataflare.plugin.json_filter: json_filter: batch of 7 records"
        in lines
    )
    assert (
        "debug: [per_country] dataflare.plugin.count_sum: count_sum: grouping by 'country', summing 'id'"
        in lines
    )
    skipped = "debug: [users] dataflare.pipeline: skipped a record: serialization: "
    assert [line.split(": ", 4)[-1] for line in lines if line.startswith(skipped)] == [
        f"{examples / 'data' / 'users.jsonl'}:6: invalid JSON: Expecting value: line 1 column 1 (char 0)"
    ]


@pytest.mark.guests
def test_the_demo_runs_on_a_small_dataset(tmp_path):
    guests = tmp_path / "build" / "guests" / "python"
    guests.mkdir(parents=True)
    for name in ("json_filter", "mask_email"):
        shutil.copyfile(built_guest("python", name), guests / f"{name}.wasm")
    command = [
        sys.executable,
        "-m",
        "dataflare.demo",
        "--events",
        "300",
        "--build-dir",
        str(tmp_path / "build"),
    ]
    first = subprocess.run(command, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "revenue_by_country" in first.stdout and "wall time:" in first.stdout
    events = (tmp_path / "build" / "demo" / "events.jsonl").read_bytes()
    assert len(events.splitlines()) == 300
    with sqlite3.connect(tmp_path / "build" / "demo" / "demo.db") as db:
        groups = db.execute(
            'SELECT "group", count, sum FROM revenue_by_country ORDER BY 1'
        ).fetchall()
    active = [
        json.loads(line) for line in events.splitlines() if json.loads(line)["status"] == "active"
    ]
    expected = {}
    for event in active:
        count, total = expected.get(event["country"], (0, 0.0))
        expected[event["country"]] = (count + 1, total + event["amount"])
    assert [(g, c) for g, c, _ in groups] == sorted((g, c) for g, (c, _) in expected.items())
    assert all(abs(s - expected[g][1]) < 1e-6 for g, _, s in groups)
    # Deterministic: a second run with the same settings reuses the same file and result.
    second = subprocess.run(command, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "build" / "demo" / "events.jsonl").read_bytes() == events


def test_demo_dataset_is_deterministic(tmp_path):
    from dataflare.demo import generate_events

    generate_events(tmp_path / "a.jsonl", 200, 7)
    generate_events(tmp_path / "b.jsonl", 200, 7)
    generate_events(tmp_path / "c.jsonl", 200, 8)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()
