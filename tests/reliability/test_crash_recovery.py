"""A real pipeline process killed with SIGKILL at random points loses nothing.

`dataflare run` reads a JSON Lines file (``resume: true``) in small batches
into a SQLite sink, a PostgreSQL sink (both plain inserts, so a duplicate
would show) and a JSON Lines file sink. It is killed at a random moment
several times per seed, then run to completion. Afterwards both SQL sinks
hold every source record exactly once; the file sink holds every record at
least once, with duplicates only from the batch in flight at each kill.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

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


def _start(path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dataflare", "run", str(path)],
        cwd=path.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_points_loses_and_duplicates_nothing_in_sql_sinks(tmp_path, pg_dsn, seed):
    import psycopg

    rng = random.Random(seed)
    table = f"crash_{uuid.uuid4().hex[:8]}"
    path = _pipeline(tmp_path, pg_dsn, table)
    kills = 0
    state = tmp_path / ".dataflare" / "crash.state.json"
    for _ in range(KILLS):
        before = state.stat().st_mtime_ns if state.exists() else 0
        proc = _start(path)
        # Kill at a random point after this run committed its first batch, so
        # every kill lands mid-run, not during interpreter start-up.
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if state.exists() and state.stat().st_mtime_ns != before:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 1.0))
        if proc.poll() is not None:
            break  # it finished before the kill: nothing left to interrupt
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    final = _start(path)
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
    assert set(seen) == set(range(RECORDS))
    assert sum(seen.values()) - RECORDS <= kills * BATCH
