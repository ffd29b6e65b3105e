"""`--engine dask` on a LocalCluster of two processes gives what `--engine local` gives."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from dataflare.cli import main as cli_main
from dataflare.scaleout import run_on_dask
from support.guests import built_guest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _users(path: Path, count: int, *, bad: bool = True) -> None:
    """Users as examples/data has them; with `bad`, a line that is not JSON now and then."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            if bad and n % 997 == 5:
                out.write("not json\n")
                continue
            status = "active" if n % 3 else "gone"
            user = {"id": n, "name": f"u{n}", "email": f"u{n}@example.org", "status": status}
            out.write(json.dumps({**user, "country": "ABCD"[n % 4]}) + "\n")


def _local(pipeline: Path) -> None:
    assert cli_main(["run", str(pipeline), "-q"]) == 0


def _rows(db: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall())


def _parts(folder: Path, stem: str, suffix: str) -> list[Path]:
    return sorted(folder.glob(f"{stem}.part-*{suffix}"))


def test_the_files_example_split_by_bytes_gives_the_local_outputs(
    tmp_path: Path, dask_client: Any
) -> None:
    (tmp_path / "data").mkdir()
    _users(tmp_path / "data" / "users.jsonl", 6000)
    raw = yaml.safe_load((ROOT / "examples" / "files.yaml").read_text())
    raw["sources"][0]["config"]["split_bytes"] = 70_000
    for sink in raw["sinks"]:
        sink["config"]["path"] = "out/" + Path(sink["config"]["path"]).name
    pipeline = tmp_path / "files.yaml"
    pipeline.write_text(yaml.safe_dump(raw), encoding="utf-8")
    _local(pipeline)
    local = tmp_path / "local"
    (tmp_path / "out").rename(local)
    (tmp_path / "out").mkdir()

    summary = run_on_dask(pipeline, dask_client)

    out = tmp_path / "out"
    assert len(summary.results) > 3
    for stem in ("active_users", "rejects"):
        parts = _parts(out, stem, ".jsonl")
        assert len(parts) == len(summary.results)
        joined = b"".join(p.read_bytes() for p in parts)
        assert joined == (local / f"{stem}.jsonl").read_bytes()
    rows = [p.read_text().splitlines() for p in _parts(out, "active_users", ".csv")]
    header = rows[0][0]
    assert all(r[0] == header for r in rows)  # each part file is a whole CSV file
    assert [header, *(line for r in rows for line in r[1:])] == (
        (local / "active_users.csv").read_text().splitlines()
    )
    # the workers ran the partitions, not this process
    assert {r.worker_pid for r in summary.results} - {os.getpid()}


AGGREGATE = """
name: totals
batch_size: 50
sources:
  - id: events
    type: jsonl
    config: {path: "in/*.jsonl"}
processors:
  - id: active
    type: plugin
    config: {plugin_type: filter, plugin_name: json_filter, params: {field: status, value: active}}
  - id: per_country
    type: plugin
    config: {plugin_type: aggregate, %s}
sinks:
  - id: db
    type: sqlite
    config: {path: out.db, table: totals, mode: upsert, upsert_key: group}
  - id: file
    type: jsonl
    config: {path: totals.jsonl}
"""

COUNT_SUM = "plugin_name: count_sum, params: {group_by: country, sum_field: id}"
NO_MERGE = "plugin_name: total_no_merge, plugin_module: plugins.py"

PLUGINS = '''
import json
import dataflare
from dataflare.model import Record
from dataflare.plugins.base import AggregateBase

@dataflare.register("aggregate", "total_no_merge")
class TotalNoMerge(AggregateBase):
    """Sums ids per country; no merge, as a 0.1 component: the engine must not split it."""

    def init(self):
        return b"{}"

    def aggregate(self, acc, record):
        totals = json.loads(acc)
        doc = json.loads(record.value)
        totals[doc["country"]] = totals.get(doc["country"], 0) + doc["id"]
        return json.dumps(totals).encode()

    def emit(self, acc):
        return [
            Record(value=json.dumps({"group": k, "sum": v}).encode())
            for k, v in sorted(json.loads(acc).items())
        ]
'''


def _aggregate_case(tmp_path: Path, aggregate: str) -> Path:
    (tmp_path / "in").mkdir()
    for n in range(3):
        _users(tmp_path / "in" / f"part{n}.jsonl", 700 + 300 * n, bad=False)
    (tmp_path / "plugins.py").write_text(PLUGINS, encoding="utf-8")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(AGGREGATE % aggregate, encoding="utf-8")
    return pipeline


@pytest.mark.parametrize("aggregate", [COUNT_SUM, NO_MERGE], ids=["merge", "no-merge"])
def test_an_aggregate_over_partitions_equals_the_local_run(
    tmp_path: Path, dask_client: Any, aggregate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = _aggregate_case(tmp_path, aggregate)
    _local(pipeline)
    local_rows = _rows(tmp_path / "out.db", "totals")
    local_file = (tmp_path / "totals.jsonl").read_bytes()
    (tmp_path / "out.db").unlink()
    (tmp_path / "totals.jsonl").unlink()

    assert cli_main(["run", str(pipeline), "--engine", "dask", "--dry-run"]) == 0
    described = capsys.readouterr().out
    summary = run_on_dask(pipeline, dask_client)

    assert len(summary.results) == 3
    assert _rows(tmp_path / "out.db", "totals") == local_rows
    assert (tmp_path / "totals.jsonl").read_bytes() == local_file  # one file: written once
    if aggregate == COUNT_SUM:
        assert "accumulators merged (tree)" in described
        assert all(r.accumulator for r in summary.results)
    else:
        assert "folded in one final task" in described
        assert not any(r.accumulator for r in summary.results)
    assert not list(tmp_path.glob(".dataflare/*.dask-*"))  # the run's scratch is removed


@pytest.mark.guests
def test_the_demo_pipeline_split_by_bytes_equals_the_local_run(
    tmp_path: Path, dask_client: Any
) -> None:
    from dataflare.demo.dataset import generate_events

    raw = yaml.safe_load((ROOT / "host" / "dataflare" / "demo" / "pipeline.yaml").read_text())
    raw["sources"][0]["config"]["split_bytes"] = 60_000
    for stage in raw["processors"]:
        if stage["config"].get("plugin_source") == "wasm":
            name = Path(stage["config"]["plugin_path"]).stem
            stage["config"]["plugin_path"] = str(built_guest("python", name))
    generate_events(tmp_path / "events.jsonl", 3000, 7)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(raw), encoding="utf-8")
    _local(pipeline)
    local_rows = _rows(tmp_path / "demo.db", "revenue_by_country")
    (tmp_path / "demo.db").unlink()

    summary = run_on_dask(pipeline, dask_client)

    assert len(summary.results) > 2
    assert _rows(tmp_path / "demo.db", "revenue_by_country") == local_rows


SLOW = '''
import time
import dataflare
from dataflare.plugins.base import TransformBase

@dataflare.register("transform", "slowly")
class Slowly(TransformBase):
    """Passes records on, a little slowly, so a worker can be killed mid-run."""

    def transform(self, record):
        time.sleep(0.0004)
        return record
'''

KILL = """
name: killed
batch_size: 100
sources:
  - id: events
    type: jsonl
    config: {path: "in/*.jsonl"}
processors:
  - id: slow
    type: plugin
    config: {plugin_type: transform, plugin_name: slowly, plugin_module: slow.py}
sinks:
  - id: db
    type: sqlite
    config: {path: out.db, table: events}
"""


def test_a_worker_killed_mid_run_leaves_every_record_once_in_the_sql_sink(
    tmp_path: Path, dask_client: Any
) -> None:
    (tmp_path / "in").mkdir()
    total = 0
    for n in range(4):
        path = tmp_path / "in" / f"f{n}.jsonl"
        path.write_text("".join(json.dumps({"id": total + i}) + "\n" for i in range(2500)))
        total += 2500
    (tmp_path / "slow.py").write_text(SLOW, encoding="utf-8")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(KILL, encoding="utf-8")
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["summary"] = run_on_dask(pipeline, dask_client)
        except BaseException as exc:  # reported by the test below
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    runner.start()
    db = tmp_path / "out.db"
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and runner.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            with sqlite3.connect(db) as conn:
                written = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        except sqlite3.Error:
            continue
        busy = [addr for addr, keys in dask_client.processing().items() if keys]
        if written > 1000 and busy:
            killed = dask_client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(killed, signal.SIGKILL)  # a worker in the middle of a partition
    runner.join(300)
    assert killed is not None, "the run ended before a worker could be killed"
    assert "error" not in outcome, outcome.get("error")
    ids = [row[0] for row in _rows(db, "events")]
    assert ids == list(range(total))  # every record, none twice
    # a killed worker's partitions ran again on a living (or restarted) one
    assert killed not in {r.worker_pid for r in outcome["summary"].results}


SQL = """
name: copy
batch_size: 40
sources:
  - id: rows
    type: sqlite
    config: {path: in.db, table: t, incremental_column: id, partitions: 3}
sinks:
  - id: db
    type: sqlite
    config: {path: out.db, table: copied}
  - id: file
    type: jsonl
    config: {path: out.jsonl}
"""


def test_a_sqlite_source_in_key_ranges_through_the_cli_equals_the_local_run(
    tmp_path: Path, dask_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(tmp_path / "in.db") as conn:
        conn.execute("CREATE TABLE t (id INTEGER, name TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(n, f"n{n}") for n in range(1000)])
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(SQL, encoding="utf-8")
    _local(pipeline)
    local_rows = _rows(tmp_path / "out.db", "copied")
    local_file = (tmp_path / "out.jsonl").read_bytes()
    (tmp_path / "out.db").unlink()

    address = dask_client.scheduler.address
    assert cli_main(["run", str(pipeline), "--engine", "dask", "--scheduler", address]) == 0

    assert "3 partition(s) on Dask" in capsys.readouterr().err
    assert _rows(tmp_path / "out.db", "copied") == local_rows
    parts = _parts(tmp_path, "out", ".jsonl")
    assert len(parts) == 3
    assert b"".join(p.read_bytes() for p in parts) == local_file  # key ranges in order


WASM_SOURCE = """
name: generated
batch_size: 200
sources:
  - id: gen
    type: plugin
    config:
      plugin_type: source
      plugin_source: wasm
      plugin_path: {source}
      params: {{count: 3000, seed: 5, partitions: 3}}
processors:
  - id: active
    type: plugin
    config:
      plugin_type: filter
      plugin_source: wasm
      plugin_path: {filter}
      params: {{field: status, value: active}}
sinks:
  - id: out
    type: jsonl
    config: {{path: out.jsonl, format: record}}
"""


@pytest.mark.guests
def test_a_wasm_source_gets_its_partition_in_its_config_map(
    tmp_path: Path, dask_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        WASM_SOURCE.format(
            source=built_guest("rust", "gen_source"), filter=built_guest("rust", "json_filter")
        ),
        encoding="utf-8",
    )
    _local(pipeline)  # `partitions` alone: the guest generates every record
    local = (tmp_path / "out.jsonl").read_bytes()
    assert local.count(b"\n") > 500

    assert cli_main(["run", str(pipeline), "--engine", "dask", "--dry-run"]) == 0
    assert "source gen: 3 partitions (WASM config map)" in capsys.readouterr().out
    summary = run_on_dask(pipeline, dask_client)

    assert len(summary.results) == 3
    assert b"".join(p.read_bytes() for p in _parts(tmp_path, "out", ".jsonl")) == local


def test_postgres_key_ranges_through_dask_write_every_row_once(
    tmp_path: Path, dask_client: Any, pg_dsn: str
) -> None:
    import uuid

    import psycopg

    source, sink = (f"t_{uuid.uuid4().hex[:12]}" for _ in range(2))
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {source} (id integer, name text)")
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {source} VALUES (%s, %s)",
                [(n, f"n{n}") for n in range(1500)] + [(None, "no id")],
            )
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"""
name: pg_copy
batch_size: 100
sources:
  - id: rows
    type: postgres
    config: {{dsn: "{pg_dsn}", table: {source}, incremental_column: id, partitions: 4}}
sinks:
  - id: db
    type: postgres
    config: {{dsn: "{pg_dsn}", table: {sink}}}
""",
        encoding="utf-8",
    )
    summary = run_on_dask(pipeline, dask_client)

    assert len(summary.results) == 4
    with psycopg.connect(pg_dsn) as conn:
        got = conn.execute(f"SELECT id, name FROM {sink}").fetchall()
        scopes = conn.execute(
            "SELECT count(DISTINCT scope) FROM dataflare_positions WHERE scope LIKE %s",
            (f"%{tmp_path.name}%",),
        ).fetchone()
    assert sorted(got, key=lambda row: (row[0] is not None, row[0] or 0)) == [
        (None, "no id"),
        *((n, f"n{n}") for n in range(1500)),
    ]
    assert scopes == (4,)  # one position per partition


def test_the_cli_starts_its_own_local_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    for n in range(2):
        _users(tmp_path / "in" / f"u{n}.jsonl", 50, bad=False)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        'sources: [{id: u, type: jsonl, config: {path: "in/*.jsonl"}}]\n'
        "sinks: [{id: out, type: jsonl, config: {path: out.jsonl}}]\n",
        encoding="utf-8",
    )
    argv = ["run", str(pipeline), "--engine", "dask", "--dask-workers", "1"]
    assert cli_main(argv) == 0
    assert "2 partition(s) on Dask" in capsys.readouterr().err
    assert [p.read_text().count("\n") for p in _parts(tmp_path, "out", ".jsonl")] == [50, 50]


def _worker_cache() -> tuple[int, int, int, int, list[str], int]:
    from dataflare.runtime.cache import default_cache
    from dataflare.scaleout.kept import idle_count
    from dataflare.scaleout.tasks import component_dir

    stats = default_cache().stats
    names = sorted(p.name for p in component_dir().iterdir())
    return os.getpid(), stats.misses, stats.hits, stats.kept, names, idle_count()


@pytest.mark.guests
def test_a_worker_gets_a_component_once_loads_it_once_and_reuses_its_instance(
    tmp_path: Path, dask_client: Any
) -> None:
    import hashlib

    wasm = built_guest("rust", "json_filter")
    digest = hashlib.sha256(wasm.read_bytes()).hexdigest()
    dask_client.restart()  # fresh worker processes: nothing in memory yet
    (tmp_path / "in").mkdir()
    for n in range(6):
        _users(tmp_path / "in" / f"u{n}.jsonl", 30, bad=False)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        'sources: [{id: u, type: jsonl, config: {path: "in/*.jsonl"}}]\n'
        "processors:\n"
        "  - id: f\n"
        "    type: plugin\n"
        f"    config: {{plugin_type: filter, plugin_source: wasm, plugin_path: {wasm},\n"
        "              params: {field: status, value: active}}\n"
        "sinks: [{id: out, type: jsonl, config: {path: out.jsonl}}]\n",
        encoding="utf-8",
    )
    summary = run_on_dask(pipeline, dask_client)

    assert len(summary.results) == 6
    tasks = {pid: 0 for pid in (r.worker_pid for r in summary.results)}
    for result in summary.results:
        tasks[result.worker_pid] += 1
    for pid, misses, hits, kept, files, idle in dask_client.run(_worker_cache).values():
        if pid not in tasks:
            continue
        assert (misses + hits, kept) == (1, 0)  # compiled or read from disk once, then lent
        assert idle == 1  # one instance served every task of that worker
        assert f"{digest}.wasm" in files  # the worker's copy, named by its sha256


@pytest.mark.guests
def test_the_mixed_example_split_by_bytes_merges_a_wasm_aggregate_as_the_local_run(
    tmp_path: Path, dask_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = yaml.safe_load((ROOT / "examples" / "wasm_mixed.yaml").read_text())
    raw["sources"][0]["config"]["path"] = str(ROOT / "examples" / "data" / "users.jsonl")
    raw["sources"][0]["config"]["split_bytes"] = 200
    for stage in raw["processors"]:
        if stage["config"].get("plugin_source") == "wasm":
            name = Path(stage["config"]["plugin_path"]).stem
            stage["config"]["plugin_path"] = str(built_guest("python", name))
    raw["sinks"][0]["config"]["path"] = "users.db"
    pipeline = tmp_path / "mixed.yaml"
    pipeline.write_text(yaml.safe_dump(raw), encoding="utf-8")
    _local(pipeline)
    local_rows = _rows(tmp_path / "users.db", "users_per_country")
    (tmp_path / "users.db").unlink()

    assert cli_main(["run", str(pipeline), "--engine", "dask", "--dry-run"]) == 0
    assert "accumulators merged (tree)" in capsys.readouterr().out  # a 0.2 component merges
    summary = run_on_dask(pipeline, dask_client)

    assert len(summary.results) > 2
    assert _rows(tmp_path / "users.db", "users_per_country") == local_rows


def test_poison_records_are_isolated_and_dead_lettered_in_each_partition_as_locally(
    tmp_path: Path, dask_client: Any
) -> None:
    (tmp_path / "in").mkdir()
    for f in range(3):
        lines = [json.dumps({"n": f * 10 + i}) + "\n" for i in range(10)]
        (tmp_path / "in" / f"f{f}.jsonl").write_text("".join(lines))
    module = ROOT / "tests" / "pipeline" / "dfpipe_plugins.py"
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"""
batch_size: 4
sources:
  - {{id: in, type: jsonl, config: {{path: "in/*.jsonl"}}}}
processors:
  - id: trap
    type: plugin
    on_error: dead_letter
    dead_letter: rejects
    config: {{plugin_type: transform, plugin_name: test_trap, plugin_module: {module},
             params: {{at: 15}}}}
sinks:
  - {{id: out, type: jsonl, config: {{path: out.jsonl}}}}
  - {{id: rejects, type: jsonl, config: {{path: rejects.jsonl, format: record}}}}
""",
        encoding="utf-8",
    )
    _local(pipeline)
    local = {name: (tmp_path / f"{name}.jsonl").read_bytes() for name in ("out", "rejects")}
    assert b'"dataflare.error.kind": "trap"' in local["rejects"]
    assert local["rejects"].count(b"\n") == 1 and local["out"].count(b"\n") == 29

    run_on_dask(pipeline, dask_client)

    for name, expected in local.items():
        assert b"".join(p.read_bytes() for p in _parts(tmp_path, name, ".jsonl")) == expected
