"""Hot plug: a swap between batches loses no record and processes none twice; bad swaps are refused.

The swap machinery does not care whether a plugin is native or WASM, so most
tests swap native versions (`hotplug_plugins`) through an injected loader;
the WASM ones load committed 0.1 components (no guest build).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import hotplug_plugins
import pytest
from dataflare.model import Record
from dataflare.pipeline import Executor, load_plan
from dataflare.pipeline.hotplug import SwapOutcome
from dfpipe_plugins import LogSink
from hotplug_plugins import VERSION_KEY, Tagger
from support.guests import v0_1_fixture

PIPELINE = """
batch_size: 20
sources:
  - id: numbers
    type: plugin
    config: {{plugin_type: source, plugin_name: test_range, params: {{count: "{count}"}}}}
processors:
  - id: tag
    type: plugin
    config: {{plugin_type: transform, plugin_name: test_tagger}}
sinks:
  - {{id: out, type: plugin, config: {{plugin_type: sink, plugin_name: test_log}}}}
"""


def plug(tmp_path: Path, name: str) -> Path:
    """A stand-in plugin file for the test loader (its bytes give it a sha256)."""
    path = tmp_path / name
    path.write_text(name)
    return path


def swap_after(
    executor: Executor, batches: int, stage: str, path: Path
) -> Callable[[], SwapOutcome]:
    """Request a swap once `batches` batches went through; returns the outcome getter.

    The request waits (in `on_batch`, on the executor's thread) until the new
    plugin is prepared, so the swap lands at a known point whatever the
    machine's speed; the outcome is read after the run.
    """
    seen = 0
    futures: list[Future[SwapOutcome]] = []

    def on_batch(_stats: object) -> None:
        nonlocal seen
        seen += 1
        if seen == batches:
            future = executor.hotplug.request(stage, path)
            while not (executor.hotplug.ready(stage) or future.done()):
                time.sleep(0.001)
            futures.append(future)

    executor.on_batch = on_batch
    return lambda: futures[0].result(timeout=10)


def versions(records: list[Record]) -> list[str]:
    return [r.metadata[VERSION_KEY] for r in records]


def numbers(records: list[Record]) -> list[int]:
    return [json.loads(r.value)["n"] for r in records]


def test_swap_mid_stream_processes_every_record_once(tmp_path, write_yaml):
    plan = load_plan(write_yaml(PIPELINE.format(count=2000)))
    old = plan.processors[0].plugin
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    outcome = swap_after(executor, 30, "tag", plug(tmp_path, "tag-2.0.0.plug"))
    executor.run()
    got = outcome()
    assert got.ok, got.reason
    assert got.plugin == "tagger 2.0.0" and got.pause_ms is not None
    received = LogSink.RECEIVED
    assert numbers(received) == list(range(2000))  # none lost, none twice, in order
    tags = versions(received)
    first_v2 = tags.index("2.0.0")
    assert 0 < first_v2 < 2000
    assert set(tags[:first_v2]) == {"1.0.0"} and set(tags[first_v2:]) == {"2.0.0"}
    assert first_v2 % 20 == 0  # between batches, never inside one
    assert isinstance(old, Tagger) and old.closed  # the old version is closed after the swap
    assert executor.hotplug.last_swap("tag") == got
    assert executor.hotplug.running("tag")[1] == got.sha256


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("keep-1.0.0.plug", "is a filter plugin; the stage is a transform stage"),
        ("trapconf-2.0.0.plug", "configure trapped"),
        ("trapprobe-2.0.0.plug", "the probe of the last 20 records trapped"),
        ("missing-2.0.0.plug", "cannot read the plugin file"),
    ],
)
def test_a_broken_swap_is_refused_and_v1_carries_on(tmp_path, write_yaml, name, reason):
    plan = load_plan(write_yaml(PIPELINE.format(count=400)))
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    path = tmp_path / name if name.startswith("missing") else plug(tmp_path, name)
    outcome = swap_after(executor, 5, "tag", path)
    executor.run()
    got = outcome()
    assert not got.ok
    assert reason in got.reason
    assert set(versions(LogSink.RECEIVED)) == {"1.0.0"}
    assert numbers(LogSink.RECEIVED) == list(range(400))
    assert executor.hotplug.last_swap("tag") == got
    assert executor.hotplug.swaps() == {("tag", False): 1}


AGGREGATE = """
batch_size: 10
sources:
  - id: numbers
    type: plugin
    config: {plugin_type: source, plugin_name: test_range, params: {count: "100"}}
processors:
  - id: total
    type: plugin
    config: {plugin_type: aggregate, plugin_name: test_summer}
sinks:
  - {id: out, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
"""


def test_an_aggregate_swaps_to_the_same_major_and_keeps_its_accumulator(tmp_path, write_yaml):
    plan = load_plan(write_yaml(AGGREGATE))
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    outcome = swap_after(executor, 4, "total", plug(tmp_path, "sum-1.3.0.plug"))
    executor.run()
    assert outcome().ok, outcome().reason
    [emitted] = LogSink.RECEIVED
    assert json.loads(emitted.value) == {"sum": sum(range(100)), "by": "1.3.0"}


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("sum-2.0.0.plug", "running summer 1.0.0, offered summer 2.0.0"),
        ("other-1.0.0.plug", "running summer 1.0.0, offered other 1.0.0"),
    ],
)
def test_an_aggregate_refuses_another_name_or_major(tmp_path, write_yaml, name, why):
    plan = load_plan(write_yaml(AGGREGATE))
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    outcome = swap_after(executor, 4, "total", plug(tmp_path, name))
    executor.run()
    got = outcome()
    assert not got.ok
    assert "same plugin with the same major version" in got.reason and why in got.reason
    [emitted] = LogSink.RECEIVED
    assert json.loads(emitted.value) == {"sum": sum(range(100)), "by": "1.0.0"}


def test_sources_and_sinks_do_not_swap_and_unknown_stages_are_named(write_yaml, tmp_path):
    plan = load_plan(write_yaml(PIPELINE.format(count=1)))
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    try:
        source = executor.hotplug.request("numbers", plug(tmp_path, "tag-2.plug")).result(1)
        nothing = executor.hotplug.request("nope").result(1)
    finally:
        plan.close()
    assert not source.ok and "a source stage does not hot plug" in source.reason
    assert not nothing.ok and "no stage 'nope'" in nothing.reason


def test_a_swap_not_applied_when_the_run_ends_is_refused(write_yaml, tmp_path):
    plan = load_plan(write_yaml(PIPELINE.format(count=0)))
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    executor.run()
    late = executor.hotplug.request("tag", plug(tmp_path, "tag-2.plug")).result(1)
    assert not late.ok and "the run has ended" in late.reason


def test_native_stages_reload_only_through_a_loader(write_yaml, tmp_path):
    plan = load_plan(write_yaml(PIPELINE.format(count=0)))
    executor = Executor(plan)  # the default loader: WASM components only
    future = executor.hotplug.request("tag", plug(tmp_path, "tag-2.plug"))
    got = future.result(10)
    plan.close()
    assert not got.ok and "only WASM stages hot plug" in got.reason


WASM = """
batch_size: 16
sources:
  - id: numbers
    type: plugin
    config: {{plugin_type: source, plugin_name: test_range, params: {{count: "400"}}}}
processors:
  - id: echo
    type: plugin
    workers: {workers}
    config: {{plugin_type: transform, plugin_source: wasm, plugin_path: {echo}, params: {{tag: t}}}}
sinks:
  - {{id: out, type: plugin, config: {{plugin_type: sink, plugin_name: test_log}}}}
"""


def test_a_pooled_wasm_stage_swaps_every_instance(tmp_path, write_yaml):
    echo = v0_1_fixture("echo.rust", tmp_path)
    plan = load_plan(write_yaml(WASM.format(workers=2, echo=echo)))
    old = plan.processors[0].plugin
    old_members = list(old.pool.members)  # type: ignore[attr-defined]
    executor = Executor(plan)
    outcome = swap_after(executor, 5, "echo", echo)
    executor.run()
    got = outcome()
    assert got.ok, got.reason
    new = plan.processors[0].plugin
    assert new is not old
    members = new.pool.members  # type: ignore[attr-defined]
    assert len(members) == 2 and not set(map(id, members)) & set(map(id, old_members))
    assert numbers(LogSink.RECEIVED) == list(range(400))


def test_a_wasm_swap_to_the_wrong_world_is_refused(tmp_path, write_yaml):
    echo = v0_1_fixture("echo.rust", tmp_path)
    wrong = v0_1_fixture("json_filter.rust", tmp_path)
    plan = load_plan(write_yaml(WASM.format(workers=1, echo=echo)))
    executor = Executor(plan)
    outcome = swap_after(executor, 5, "echo", wrong)
    executor.run()
    got = outcome()
    assert not got.ok
    assert "filter" in got.reason and "transform" in got.reason
    assert numbers(LogSink.RECEIVED) == list(range(400))


def test_a_later_request_supersedes_one_not_applied_yet(tmp_path, write_yaml):
    plan = load_plan(write_yaml(PIPELINE.format(count=200)))
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    futures: list[Future[SwapOutcome]] = []
    between: list[float] = []  # wall-clock time between the two requests

    def on_batch(_stats: object) -> None:
        if futures:
            return
        hotplug = executor.hotplug
        futures.append(hotplug.request("tag", plug(tmp_path, "tag-2.0.0.plug")))
        between.append(time.time())
        futures.append(hotplug.request("tag", plug(tmp_path, "tag-3.0.0.plug")))
        while not (futures[0].done() and hotplug.ready("tag")):
            time.sleep(0.001)  # no batch runs meanwhile: neither can apply yet

    executor.on_batch = on_batch
    executor.run()
    first, second = (f.result(timeout=10) for f in futures)
    assert not first.ok and "superseded by a later request" in first.reason
    assert first.requested <= between[0] <= second.requested  # each keeps its own request time
    assert second.ok and second.plugin == "tagger 3.0.0"
    assert set(versions(LogSink.RECEIVED)) == {"1.0.0", "3.0.0"}


def test_a_swap_asked_for_while_the_stream_is_quiet_applies_without_a_batch(tmp_path, write_yaml):
    (tmp_path / "in.jsonl").write_text("".join(f'{{"n": {n}}}\n' for n in range(30)))
    path = write_yaml(
        "batch_size: 20\n"
        f"sources:\n  - {{id: src, type: jsonl, config: {{path: '{tmp_path / 'in.jsonl'}', "
        "follow: true}}\n"
        "processors:\n  - {id: tag, type: plugin, config: {plugin_type: transform, "
        "plugin_name: test_tagger}}\n"
        "sinks:\n  - {id: out, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}\n"
    )
    executor = Executor(load_plan(path), hotplug_loader=hotplug_plugins.loader)
    runner = threading.Thread(target=executor.run)
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while len(LogSink.RECEIVED) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # the stream is quiet: no batch will come to carry the swap
        got = executor.hotplug.request("tag", plug(tmp_path, "tag-2.0.0.plug")).result(60)
        assert got.ok, got.reason
        # Measured from the moment the executor was last free, not from the last batch.
        assert got.pause_ms is not None and got.pause_ms < 300
        with open(tmp_path / "in.jsonl", "a") as file:
            file.write('{"n": 30}\n')
        while len(LogSink.RECEIVED) < 31 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        executor.stop.set()
        runner.join(60)
    assert numbers(LogSink.RECEIVED) == list(range(31))
    assert versions(LogSink.RECEIVED) == ["1.0.0"] * 30 + ["2.0.0"]
