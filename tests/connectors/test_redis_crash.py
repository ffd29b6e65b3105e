"""`dataflare run` on a Redis stream, killed with SIGKILL mid-stream: SQLite gets every entry once.

A producer adds records at a steady rate while a following pipeline copies
them into SQLite; the process is killed at random moments (after it
committed something, so each kill lands mid-stream), restarted, killed
again, and finally the same pipeline with ``follow: false`` (the same state
file) drains what is left. Every record must be in the table exactly once
and nothing may stay pending in the group.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from support.redis import produce
from support.runs import start_run, state_stamp, wait_for_commit

RECORDS = 4000
RATE = 400.0
KILLS = 3


def _pipeline(tmp_path: Path, url: str, stream: str, follow: bool) -> Path:
    path = tmp_path / f"follow-{str(follow).lower()}.yaml"
    path.write_text(
        "batch_size: 64\n"
        "state: crash.state.json\n"
        f"sources:\n  - {{id: src, type: redis, config: {{url: '{url}', stream: {stream}, "
        f"follow: {str(follow).lower()}, block_ms: 50}}}}\n"
        "sinks:\n  - {id: db, type: sqlite, config: {path: out.db, table: t}}\n"
    )
    return path


@contextmanager
def _running(path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`start_run`; a following run the test did not end (it failed) is killed, not waited for."""
    with start_run(path) as proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


def _rows(tmp_path: Path) -> Counter[int]:
    try:
        with sqlite3.connect(tmp_path / "out.db") as db:
            return Counter(n for (n,) in db.execute("SELECT n FROM t"))
    except sqlite3.OperationalError:  # no table before the first commit
        return Counter()


@pytest.mark.slow
def test_sigkill_mid_stream_then_restart_gives_exactly_once_in_sqlite(redis_server, tmp_path):
    rng = random.Random(15)
    stream = f"crash-{uuid.uuid4().hex[:8]}"
    following = _pipeline(tmp_path, redis_server, stream, follow=True)
    state = tmp_path / "crash.state.json"
    producer = produce(redis_server, stream, RECORDS, rate=RATE)
    for _ in range(KILLS):
        before = state_stamp(state)
        with _running(following) as proc:
            wait_for_commit(proc, state, before)
            time.sleep(rng.uniform(0.0, 0.6))
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert producer.sent < RECORDS, "the producer finished before the last kill; slow it down"
    assert producer.join() == RECORDS

    final = start_run(_pipeline(tmp_path, redis_server, stream, follow=False))
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()[-2000:]
    assert _rows(tmp_path) == Counter(range(RECORDS))
    assert int(redis.Redis.from_url(redis_server).xpending(stream, "dataflare")["pending"]) == 0
    saved = json.loads(state.read_text())
    assert saved["sources"]["src"]["plugin"] == "native:redis"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_drains_a_following_run_which_acknowledges_everything_it_committed(
    redis_server, tmp_path, signum
):
    stream = f"stop-{uuid.uuid4().hex[:8]}"
    producer = produce(redis_server, stream, 500, rate=1000.0)
    with _running(_pipeline(tmp_path, redis_server, stream, follow=True)) as proc:
        producer.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if sum(_rows(tmp_path).values()) >= 500:
                break
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    # a followed stream ends only when stopped: a drained stop is a success
    assert proc.returncode == 0, err.decode()[-2000:]
    assert _rows(tmp_path) == Counter(range(500))
    assert int(redis.Redis.from_url(redis_server).xpending(stream, "dataflare")["pending"]) == 0
