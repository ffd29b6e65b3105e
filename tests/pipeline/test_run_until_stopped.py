# ruff: noqa: E501
"""Running until stopped: SIGTERM drains like Ctrl-C, a second signal aborts, rates on a terminal."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dataflare
import pytest
from dataflare.cli.run_display import Progress, RateMeter, summary_table
from dataflare.errors import ConfigFileError
from dataflare.pipeline import Executor, load_plan
from dataflare.pipeline.stats import RunStats
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

HERE = Path(__file__).resolve().parent
HOST = Path(dataflare.__file__).resolve().parents[1]
CODE = "import sys, dfpipe_plugins; from dataflare.cli import main; sys.exit(main(sys.argv[1:]))"

FOLLOWED = """
batch_size: 50
sources:
  - {id: src, type: jsonl, config: {path: in.jsonl, follow: true}}
processors:
  - {id: sq, type: plugin, config: {plugin_type: transform, plugin_name: test_square, params: {closed_path: closed.txt, tag: sq}}}
sinks:
  - {id: out, type: jsonl, config: {path: out.jsonl}}
  - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log, params: {closed_path: closed.txt, tag: log}}}
"""


def start(path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(HOST)]))
    return subprocess.Popen(
        [sys.executable, "-c", CODE, "run", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_until(proc: subprocess.Popen[bytes], done, what: str, limit: float = 60) -> None:
    """Poll `done()` while `proc` runs; fail with its output if it ends or `limit` passes."""
    deadline = time.monotonic() + limit
    while not done():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before {what}: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"never {what}: {proc.communicate()}")
        time.sleep(0.05)


def written(path: Path) -> list[int]:
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line)["n"] for line in text[: text.rfind("\n") + 1].splitlines()]


def append(path: Path, numbers: range) -> None:
    with open(path, "a", encoding="utf-8") as file:
        file.write("".join(json.dumps({"n": n}) + "\n" for n in numbers))


def stop_with_sigterm(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigterm_drains_a_followed_run_which_exits_0_and_a_rerun_goes_on_exactly_once(
    tmp_path,
):
    (tmp_path / "pipeline.yaml").write_text(FOLLOWED)
    source, out, closed = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "closed.txt"
    append(source, range(20_000))
    proc = start(tmp_path / "pipeline.yaml")
    wait_until(proc, lambda: written(out), "wrote a record")
    stdout, stderr = stop_with_sigterm(proc)  # mid-stream: a batch may be in flight
    assert proc.returncode == 0, stderr.decode()
    assert b"interrupted: finishing the current batch and closing (SIGTERM" in stderr
    assert b"stopped:" in stdout  # the summary says how the run ended
    assert sorted(closed.read_text().split()) == ["log", "sq"]
    first = written(out)
    assert first == list(range(len(first)))  # whole batches, in order, nothing twice
    assert out.read_text().endswith("\n")

    closed.unlink()
    proc = start(tmp_path / "pipeline.yaml")
    append(source, range(20_000, 21_000))  # while the second run follows the file
    wait_until(proc, lambda: len(written(out)) >= 21_000, "caught up")
    append(source, range(21_000, 21_010))
    wait_until(proc, lambda: len(written(out)) >= 21_010, "read the appended lines")
    _, stderr = stop_with_sigterm(proc)
    assert proc.returncode == 0, stderr.decode()
    assert written(out) == list(range(21_010))
    assert sorted(closed.read_text().split()) == ["log", "sq"]


@pytest.mark.parametrize(
    "signals", [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM)]
)
def test_a_second_signal_aborts_a_drain_that_cannot_finish_within_2_s(tmp_path, signals):
    (tmp_path / "in.jsonl").write_text('{"n": 1}\n')
    (tmp_path / "pipeline.yaml").write_text(
        """
        sources:
          - {id: src, type: jsonl, config: {path: in.jsonl, follow: true}}
        sinks:
          - {id: stuck, type: plugin, config: {plugin_type: sink, plugin_name: test_stuck, params: {started_path: started, closed_path: closed.txt, tag: stuck}}}
        """
    )
    proc = start(tmp_path / "pipeline.yaml")
    try:
        wait_until(proc, (tmp_path / "started").exists, "started writing")
        proc.send_signal(signals[0])
        time.sleep(0.3)  # the drain is under way (stuck in the sink's write)
        assert proc.poll() is None
        proc.send_signal(signals[1])
        sent = time.monotonic()
        _, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert took < 2, f"the second signal took {took:.1f}s to end the run"
    assert proc.returncode == 130, stderr.decode()
    assert b"dataflare: interrupted" in stderr
    assert (tmp_path / "closed.txt").read_text().split() == ["stuck"]


def test_bad_follow_and_poll_parameters_are_reported_at_their_file_line(tmp_path):
    (tmp_path / "in.jsonl").write_text("")
    (tmp_path / "db.sqlite").write_bytes(b"")
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "sources:\n"
        "  - {id: a, type: jsonl, config: {path: in.jsonl, follow: maybe}}\n"
        "  - {id: b, type: sqlite, config: {path: db.sqlite, table: t, poll_interval_ms: 50}}\n"
        "sinks:\n"
        "  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
    )
    with pytest.raises(ConfigFileError) as info:
        load_plan(path)
    problems = str(info.value)
    assert (
        f"{path}:2:51: sources entry 'a': configure failed (configuration): plugin 'jsonl': follow must be one of true, false; got 'maybe'"
        in problems
    )
    assert (
        f"{path}:3:63: sources entry 'b': configure failed (configuration): plugin 'sqlite': poll_interval_ms needs incremental_column"
        in problems
    )


def test_an_unbounded_run_is_stopped_in_process_after_the_last_line(tmp_path):
    (tmp_path / "in.jsonl").write_text("".join(f'{{"n": {n}}}\n' for n in range(120)))
    (tmp_path / "pipeline.yaml").write_text(FOLLOWED)
    executor = Executor(load_plan(tmp_path / "pipeline.yaml"))

    def after_batch(stats: RunStats) -> None:
        if stats.records_read >= 120:
            executor.stop.set()  # what the first SIGTERM does

    executor.on_batch = after_batch
    stats = executor.run()
    assert stats.unbounded and stats.interrupted
    assert written(tmp_path / "out.jsonl") == list(range(120))


def render(progress: Progress) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(progress.render())
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_progress_of_an_unbounded_run_shows_rates_not_totals_to_reach(tmp_path):
    stats = RunStats()
    stats.add("src", "source", "source")
    stats.add("out", "sink", "sink")
    stats.unbounded = True
    progress = Progress(stats, Console(file=io.StringIO()), enabled=False)
    render(progress)
    stats.stages["src"].records_out = stats.stages["out"].records_in = 500
    shown = render(progress)
    assert "running until stopped:" in shown and "records/s now" in shown
    assert "records/s" in shown.splitlines()[2]  # a rate column in the table's header
    stats.unbounded = False
    assert "records/s now" not in render(progress)
    stats.unbounded, stats.interrupted, stats.finished = True, True, stats.started + 1
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(summary_table(stats))
    assert "stopped: 500 records read" in console.file.getvalue()  # type: ignore[attr-defined]


@given(steps=st.lists(st.tuples(st.floats(0.01, 3), st.integers(0, 1000)), min_size=1, max_size=30))
def test_rate_meter_is_the_growth_over_its_window(steps):
    meter = RateMeter(window=5.0)
    now, count = 100.0, 0
    history = [(now, count)]
    meter.sample(now, count)
    for step, more in steps:
        now, count = now + step, count + more
        history.append((now, count))
        rate = meter.sample(now, count)
        # the oldest sample kept is the newest one at least a window old (or the first)
        old = [(t, c) for t, c in history if now - t >= 5.0]
        then, before = old[-1] if old else history[0]
        assert rate == pytest.approx((count - before) / (now - then))


def test_an_idle_followed_source_does_not_hold_up_another_source(tmp_path):
    (tmp_path / "idle.jsonl").write_text("")
    (tmp_path / "busy.jsonl").write_text("".join(f'{{"n": {n}}}\n' for n in range(300)))
    (tmp_path / "pipeline.yaml").write_text(
        """
        batch_size: 10
        sources:
          - {id: idle, type: jsonl, config: {path: idle.jsonl, follow: true}}
          - {id: busy, type: jsonl, config: {path: busy.jsonl, follow: true}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
        """
    )
    executor = Executor(load_plan(tmp_path / "pipeline.yaml"))
    executor.on_batch = lambda stats: stats.records_read >= 300 and executor.stop.set()
    # a guard, not a measure: without it a regression would hang the suite
    guard = threading.Timer(60, executor.stop.set)
    guard.start()
    try:
        stats = executor.run()
    finally:
        guard.cancel()
    assert stats.records_read == 300
    assert written(tmp_path / "out.jsonl") == list(range(300))


def test_a_sink_writing_a_file_the_source_glob_matches_is_refused(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "sources:\n"
        "  - {id: a, type: jsonl, config: {path: 'in-*.jsonl', follow: true}}\n"
        "sinks:\n"
        "  - {id: out, type: jsonl, config: {path: in-out.jsonl}}\n"
    )
    with pytest.raises(ConfigFileError) as info:
        load_plan(path)
    assert f"{path}:4:" in str(info.value)
    assert "the same file that source 'a' reads" in str(info.value)
