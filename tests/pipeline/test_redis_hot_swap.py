"""Issue 15's end-to-end case: a live Redis stream, a transform swapped mid-stream, SIGTERM.

A producer adds 50,000 records at a steady rate to a Redis stream; `dataflare
run --admin` copies them through a Rust tagger (each build tags a record's
metadata with its version) into SQLite. Midway, the admin API swaps the tagger
from v1 to v2, and a swap to a build that traps in `configure` is refused
while v2 carries on. When every record is in, SIGTERM drains the run (exit 0).
The table must hold every record exactly once, v1 on a prefix, v2 on the rest.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from support.redis import produce
from tagger_build import tagger

pytestmark = [pytest.mark.guests, pytest.mark.slow]

RECORDS = 50_000
RATE = 5_000.0


def _rows(db: Path) -> list[tuple[int, str]]:
    """(n, version) per row, in insertion order."""
    try:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT value, metadata FROM t ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:  # no table before the first commit
        return []
    return [(json.loads(v)["n"], json.loads(m)["version"]) for v, m in rows]


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _post(url: str, body: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_swap_mid_stream_gives_v1_a_prefix_v2_the_rest_and_loses_nothing(
    redis_server: str, tmp_path: Path
) -> None:
    v1, v2, broken = tagger("v1"), tagger("v2"), tagger("trap_configure")
    stream = f"swap-{uuid.uuid4().hex[:8]}"
    pipeline = tmp_path / "swap.yaml"
    pipeline.write_text(
        "batch_size: 500\n"
        f"sources:\n  - {{id: events, type: redis, config: {{url: '{redis_server}', "
        f"stream: {stream}, block_ms: 50}}}}\n"
        "processors:\n"
        f"  - {{id: tag, type: plugin, config: {{plugin_type: transform, "
        f"plugin_source: wasm, plugin_path: '{v1}'}}}}\n"
        "sinks:\n  - {id: db, type: sqlite, config: {path: out.db, table: t, format: record}}\n"
    )
    db = tmp_path / "out.db"
    producer = produce(redis_server, stream, RECORDS, rate=RATE)
    run = subprocess.Popen(
        [sys.executable, "-m", "dataflare", "run", str(pipeline), "--admin", "127.0.0.1:0", "-q"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert run.stderr is not None
        line = run.stderr.readline()
        assert line.startswith("admin API on "), line
        admin = line.removeprefix("admin API on ").strip()

        _wait(lambda: _count(db) >= RECORDS // 5, "a fifth of the records on v1")
        status, swap = _post(f"{admin}/stages/tag/plugin", {"path": str(v2)})
        assert status == 200 and swap["ok"], swap
        status, refused = _post(f"{admin}/stages/tag/plugin", {"path": str(broken)})
        assert status == 409 and "configure" in str(refused["reason"]), refused
        assert producer.sent < RECORDS, "the producer finished before the swap; slow it down"

        assert producer.join() == RECORDS
        _wait(lambda: _count(db) >= RECORDS, "every record in SQLite")
        with urllib.request.urlopen(f"{admin}/metrics", timeout=30) as response:
            metrics = response.read().decode()
        assert 'dataflare_swaps_total{outcome="applied",stage="tag"} 1.0' in metrics, metrics
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0, err[-2000:]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if run.stderr is not None:
            run.stderr.close()

    rows = _rows(db)
    assert Counter(n for n, _ in rows) == Counter(range(RECORDS))  # each record exactly once
    tags = [version for _, version in rows]
    first_v2 = tags.index("2.0.0")
    assert first_v2 >= RECORDS // 5
    assert set(tags[:first_v2]) == {"1.0.0"} and set(tags[first_v2:]) == {"2.0.0"}
