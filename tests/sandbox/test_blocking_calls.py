"""A guest blocked in a WASI call (a Rust `std::thread::sleep`) is bounded by the time limit.

Epoch interruption cannot reach a guest waiting in WASI `poll`, so the host
stops waiting and abandons the call (`dataflare.runtime.guestcall`). The
second Ctrl-C abandons a call in progress the same way.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dataflare import LimitExceeded
from dataflare._wit.types import Record  # the sleepy transform is a 0.2 component
from dataflare.model import PluginKind
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan
from dataflare.runtime.engine import EngineConfig
from dataflare.runtime.guestcall import stuck_calls
from dataflare.runtime.instance import PluginInstance, open_instance
from dataflare.runtime.limits import Limits
from dataflare.runtime.loader import LoadedComponent, load_component
from hostile_build import ROOT, sleepy_transform

# The time-limit checks allow the required 1 s over the limit; the deadline
# logic itself needs GRACE_SECONDS (0.5 s) of that.
LIMIT = 2.0


@pytest.fixture(scope="module")
def sleepy_wasm() -> Path:
    return sleepy_transform()


@pytest.fixture(scope="module")
def sleepy(sleepy_wasm: Path) -> LoadedComponent:
    config = EngineConfig(fuel=True, epoch=True)
    return load_component(sleepy_wasm, PluginKind.TRANSFORM, engine_config=config)


@pytest.fixture
def instance(sleepy: LoadedComponent) -> Iterator[PluginInstance[object]]:
    with open_instance(sleepy, name="sleepy", limits=Limits(timeout=LIMIT)) as inst:
        inst.call(lambda w: w.configure([]))
        yield inst


def _transform(inst: PluginInstance[object], value: bytes) -> object:
    record = Record(key=None, value=value, timestamp=None, metadata=[])
    return inst.call(lambda w: w.transform(record))  # type: ignore[attr-defined]


def _wait_unstuck(before: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    while stuck_calls() > before and time.monotonic() < end:
        time.sleep(0.05)


@pytest.mark.guests
def test_a_20s_sleep_under_a_2s_limit_ends_within_3s_and_says_why(instance):
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        _transform(instance, b"sleep:20000")
    took = time.monotonic() - started
    assert took < LIMIT + 1.0, f"the call took {took:.2f}s"
    assert info.value.limit == "timeout" and info.value.value == LIMIT
    message = str(info.value)
    assert "blocked outside guest code, in a WASI call (e.g. a sleep or poll)" in message
    assert "time limit 2.0s per call" in message
    assert "abandoned" in message
    # The next call gets a fresh instance and works.
    assert _transform(instance, b"ok").value.value == b"ok"  # type: ignore[attr-defined]


@pytest.mark.guests
def test_a_sleep_within_the_limit_just_works(instance):
    assert _transform(instance, b"sleep:50").value.value == b"sleep:50"  # type: ignore[attr-defined]
    assert instance.traps == 0


@pytest.mark.guests
def test_the_abandoned_call_frees_its_thread_and_store_when_the_sleep_ends(sleepy):
    before = stuck_calls()
    with open_instance(sleepy, name="sleepy", limits=Limits(timeout=0.5)) as inst:
        inst.call(lambda w: w.configure([]))
        with pytest.raises(LimitExceeded, match="blocked outside guest code"):
            _transform(inst, b"sleep:2500")
        assert stuck_calls() == before + 1
        _wait_unstuck(before, 10.0)
        assert stuck_calls() == before


def _pipeline(tmp_path: Path, wasm: Path, values: list[str], timeout_ms: int) -> Path:
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"value": v}) + "\n" for v in values))
    path = tmp_path / "p.yaml"
    path.write_text(
        "batch_size: 1\n"
        "sources:\n  - {id: src, type: jsonl, config: {path: in.jsonl, format: record}}\n"
        "processors:\n"
        "  - id: sleepy\n    type: plugin\n    on_error: dead_letter\n    dead_letter: dlq\n"
        f"    config: {{plugin_type: transform, plugin_source: wasm, plugin_path: {wasm}}}\n"
        f"    limits: {{timeout_ms_per_batch: {timeout_ms}}}\n"
        "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl, format: record}}\n"
        "  - {id: dlq, type: jsonl, config: {path: dlq.jsonl, format: record}}\n"
    )
    return path


@pytest.mark.guests
def test_a_3600s_sleep_does_not_hang_the_run(tmp_path, sleepy_wasm):
    path = _pipeline(tmp_path, sleepy_wasm, ["sleep:3600000", "ok"], timeout_ms=1000)
    started = time.monotonic()
    stats = Executor(load_plan(path)).run()
    took = time.monotonic() - started
    assert took < 20, f"the run took {took:.1f}s"
    assert stats.stages["sleepy"].errors == 1
    dead = [json.loads(line) for line in (tmp_path / "dlq.jsonl").read_text().splitlines()]
    assert len(dead) == 1
    meta = dict(dead[0]["metadata"])
    assert meta["dataflare.error.kind"] == "limit"
    assert "blocked outside guest code" in meta["dataflare.error.message"]
    out = [json.loads(line)["value"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert out == ["ok"]


@pytest.mark.guests
def test_the_log_import_is_capped_per_call_and_counts_what_it_dropped(sleepy, caplog):
    caplog.set_level(logging.INFO, logger="dataflare.plugin.sleepy")
    with open_instance(sleepy, name="sleepy", limits=Limits(timeout=30.0)) as inst:
        inst.call(lambda w: w.configure([]))
        _transform(inst, b"log:5000")  # 64 chars a line: 1024 lines fill 64 KiB
        lines = [r for r in caplog.records if r.name == "dataflare.plugin.sleepy"]
        assert sum(1 for r in lines if r.getMessage() == "x" * 64) == 1024
        assert lines[-1].levelno == logging.WARNING
        assert lines[-1].getMessage() == (
            "3976 log lines (254464 chars) dropped (limit 65536 chars of log messages per call)"
        )
        caplog.clear()
        _transform(inst, b"log:3")  # a new call, a new budget
        assert [r.getMessage() for r in caplog.records] == ["x" * 64] * 3


def _wait_for(proc: subprocess.Popen[str], text: str, seconds: float) -> str:
    """Read stderr lines until one contains `text`; what was read."""
    seen = ""
    end = time.monotonic() + seconds
    assert proc.stderr is not None
    while time.monotonic() < end:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"no {text!r} within {seconds}s; stderr so far:\n{seen}")


@pytest.mark.guests
def test_a_second_ctrl_c_aborts_a_guest_call_in_progress_within_2s(tmp_path, sleepy_wasm):
    # The limit is far away: only Ctrl-C can end this call.
    path = _pipeline(tmp_path, sleepy_wasm, ["sleep:3600000"], timeout_ms=3_600_000)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "host")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataflare", "run", "-v", "-q", str(path)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for(proc, "sleeping", 60)
        proc.send_signal(signal.SIGINT)
        # The first press is seen during the guest call, not after it.
        _wait_for(proc, "interrupted: finishing the current batch", 5)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        code = proc.wait(timeout=10)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    assert code == 130
    assert took < 2.0, f"the abort took {took:.2f}s"
