"""A real pipeline process killed with SIGKILL at random points loses nothing and repeats nothing.

`dataflare run` reads a JSON Lines file (``resume: true``) in small batches.
It is killed at random moments several times, then run to completion;
afterwards every sink holds every source record exactly once:

- into a SQLite sink, a PostgreSQL sink (both plain inserts, so a duplicate
  would show) and a JSON Lines file sink in ``mode: append``;
- through a native transform into a ``jsonl`` or a ``csv`` file sink in the
  default ``mode: overwrite``, the records the transform rejects going to a
  dead-letter file of the same kind; the jsonl one also through the Rust
  WASM build of the same transform. Each kill lands at a random fraction
  of the input plus a random delay, so it hits a write, an fsync or a state
  save at random.
"""

from __future__ import annotations

import base64
import csv
import json
import random
import signal
import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from support.guests import built_guest
from support.runs import start_run, state_stamp, wait_for_commit

RECORDS = 10_000
BATCH = 20
KILLS = 4


def _pipeline(tmp: Path, dsn: str, table: str) -> Path:
    with (tmp / "in.jsonl").open("w") as handle:
        for n in range(RECORDS):
            handle.write(json.dumps({"n": n, "pad": "x" * 40}) + "\n")
    path = tmp / "crash.yaml"
    path.write_text(
        f"batch_size: {BATCH}\n"
        "sources:\n"
        "  - {id: src, type: jsonl, config: {path: in.jsonl, resume: true}}\n"
        "sinks:\n"
        "  - {id: lite, type: sqlite, config: {path: out.db, table: t}}\n"
        f'  - {{id: pg, type: postgres, config: {{dsn: "{dsn}", table: {table}}}}}\n'
        "  - {id: file, type: jsonl, config: {path: out.jsonl, mode: append}}\n"
    )
    return path


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_points_loses_and_duplicates_nothing_in_sql_sinks(tmp_path, pg_dsn, seed):
    import psycopg

    rng = random.Random(seed)
    table = f"crash_{uuid.uuid4().hex[:8]}"
    path = _pipeline(tmp_path, pg_dsn, table)
    kills = 0
    state = tmp_path / ".dataflare" / "crash.state.json"
    for _ in range(KILLS):
        before = state_stamp(state)
        with start_run(path) as proc:  # closes its stderr pipe however the run ends
            # Kill at a random point after this run committed its first batch.
            wait_for_commit(proc, state, before)
            time.sleep(rng.uniform(0.0, 1.0))
            if proc.poll() is not None:
                break  # it finished before the kill: nothing left to interrupt
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kills += 1
    final = start_run(path)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()[-2000:]
    assert kills >= 1, "the pipeline finished before any kill; make it longer"

    with sqlite3.connect(tmp_path / "out.db") as db:
        lite = Counter(json.loads(v)["n"] if isinstance(v, str) else v
                       for (v,) in db.execute("SELECT n FROM t"))  # fmt: skip
    with psycopg.connect(pg_dsn) as conn:
        pg = Counter(n for (n,) in conn.execute(f"SELECT n FROM {table}"))
        conn.execute(f"DROP TABLE {table}")
    expected = Counter(range(RECORDS))
    assert lite == expected
    assert pg == expected
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    seen = Counter(json.loads(line)["n"] for line in lines if line.strip())
    assert seen == expected


FILE_RECORDS = 10_000
FILE_BATCH = 40
FILE_KILLS = 5
BAD_EVERY = 97  # these records have a non-string email: the transform sends them to dead letters


def _file_pipeline(tmp: Path, kind: str, transform: str) -> Path:
    with (tmp / "in.jsonl").open("w") as handle:
        for n in range(FILE_RECORDS):
            email: object = n if n % BAD_EVERY == 0 else f"user{n}@example.org"
            handle.write(json.dumps({"n": n, "email": email, "pad": "x" * 40}) + "\n")
    rejects = "{path: rejects.jsonl, format: record}" if kind == "jsonl" else "{path: rejects.csv}"
    plugin = "plugin_name: mask_email"
    if transform == "wasm":
        plugin = f"plugin_source: wasm, plugin_path: {built_guest('rust', 'mask_email')}"
    path = tmp / "crash.yaml"
    path.write_text(
        f"batch_size: {FILE_BATCH}\n"
        "sources:\n"
        "  - {id: src, type: jsonl, config: {path: in.jsonl, resume: true}}\n"
        "processors:\n"
        "  - {id: mask, type: plugin, on_error: dead_letter, dead_letter: rejects, config: "
        f"{{plugin_type: transform, {plugin}}}}}\n"
        "sinks:\n"
        f"  - {{id: out, type: {kind}, config: {{path: out.{kind}}}}}\n"
        f"  - {{id: rejects, type: {kind}, config: {rejects}}}\n"
    )
    return path


def _committed_offset(state: Path) -> int:
    """The input byte offset the state file says is committed (0 before the first commit)."""
    try:
        saved = json.loads(state.read_text())
    except (FileNotFoundError, ValueError):
        return 0
    return int(json.loads(base64.b64decode(saved["sources"]["src"]["position"]))["offset"])


def _numbers(path: Path) -> Counter[int]:
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            return Counter(int(row["n"]) for row in csv.DictReader(handle))
    numbers: Counter[int] = Counter()
    for line in path.read_text().splitlines():
        doc = json.loads(line)
        numbers[json.loads(doc["value"])["n"] if "value" in doc else doc["n"]] += 1
    return numbers


@pytest.mark.guests
@pytest.mark.parametrize(("kind", "transform"), [("jsonl", "native"), ("csv", "native"),
                                                 ("jsonl", "wasm")])  # fmt: skip
def test_sigkill_at_random_points_leaves_file_sinks_exactly_once(tmp_path, kind, transform):
    rng = random.Random(f"files-{kind}-{transform}")
    path = _file_pipeline(tmp_path, kind, transform)
    size = (tmp_path / "in.jsonl").stat().st_size
    state = tmp_path / ".dataflare" / "crash.state.json"
    kills = 0
    for fraction in sorted(rng.uniform(0.05, 0.85) for _ in range(FILE_KILLS)):
        with start_run(path) as proc:  # closes its stderr pipe however the run ends
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if _committed_offset(state) >= fraction * size:
                    break
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.02))  # off the commit boundary, into the next batch
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kills += 1
    final = start_run(path)
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()[-2000:]
    assert kills == FILE_KILLS, "the pipeline finished before every kill; make it longer"

    bad = Counter(n for n in range(FILE_RECORDS) if n % BAD_EVERY == 0)
    good = Counter(n for n in range(FILE_RECORDS) if n % BAD_EVERY)
    assert _numbers(tmp_path / f"out.{kind}") == good
    assert _numbers(tmp_path / f"rejects.{kind}") == bad
    if kind == "csv":
        assert (tmp_path / "out.csv").read_text().count("email,n,pad") == 1
