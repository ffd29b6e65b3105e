# ruff: noqa: E501  (YAML fixtures read best on one line)
"""Hot plug of real components: a Rust tagger whose builds tag records with their version."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from dataflare.pipeline import Executor, load_plan
from dfpipe_plugins import LogSink
from tagger_build import tagger
from test_hotplug import numbers, swap_after, versions

pytestmark = pytest.mark.guests

PIPELINE = """
batch_size: 25
sources:
  - id: numbers
    type: plugin
    config: {{plugin_type: source, plugin_name: test_range, params: {{count: "{count}", delay_ms: "{delay}"}}}}
processors:
  - id: tag
    type: plugin
    {extra}
    config: {{plugin_type: transform, plugin_source: wasm, plugin_path: {path}}}
sinks:
  - {{id: out, type: plugin, config: {{plugin_type: sink, plugin_name: test_log}}}}
"""


def test_v1_on_a_prefix_v2_on_the_rest(write_yaml):
    path = write_yaml(PIPELINE.format(count=5000, delay=0, extra="workers: 2", path=tagger("v1")))
    executor = Executor(load_plan(path))
    outcome = swap_after(executor, 40, "tag", tagger("v2"))
    executor.run()
    got = outcome()
    assert got.ok, got.reason
    assert got.plugin == "tagger 2.0.0"
    assert numbers(LogSink.RECEIVED) == list(range(5000))
    tags = versions(LogSink.RECEIVED)
    first = tags.index("2.0.0")
    assert first == 40 * 25
    assert set(tags[:first]) == {"1.0.0"} and set(tags[first:]) == {"2.0.0"}


def test_a_trap_in_configure_is_refused_and_v1_carries_on(write_yaml):
    path = write_yaml(PIPELINE.format(count=1000, delay=0, extra="", path=tagger("v1")))
    executor = Executor(load_plan(path))
    outcome = swap_after(executor, 10, "tag", tagger("trap_configure"))
    executor.run()
    got = outcome()
    assert not got.ok and "configure" in got.reason
    assert set(versions(LogSink.RECEIVED)) == {"1.0.0"}
    assert numbers(LogSink.RECEIVED) == list(range(1000))


def test_reload_watch_swaps_when_the_file_changes(write_yaml, tmp_path: Path):
    live = tmp_path / "tagger.wasm"
    shutil.copyfile(tagger("v1"), live)
    path = write_yaml(PIPELINE.format(count=10**9, delay=1, extra="reload: watch", path=live))
    executor = Executor(load_plan(path))
    runner = threading.Thread(target=executor.run)
    runner.start()
    try:
        while not executor.stats.stages["out"].records_out:
            time.sleep(0.01)
        fresh = tmp_path / "tagger.wasm.new"
        shutil.copyfile(tagger("v2"), fresh)
        os.replace(fresh, live)  # as a build tool puts a new file in place
        deadline = time.monotonic() + 60
        while executor.hotplug.last_swap("tag") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        swap = executor.hotplug.last_swap("tag")
        assert swap is not None and swap.ok, swap
        seen = executor.stats.stages["out"].records_out
        while executor.stats.stages["out"].records_out == seen:
            time.sleep(0.01)  # a batch on v2 written
    finally:
        executor.stop.set()
        runner.join()
    tags = versions(LogSink.RECEIVED)
    first = tags.index("2.0.0")
    assert set(tags[:first]) == {"1.0.0"} and set(tags[first:]) == {"2.0.0"}
    assert numbers(LogSink.RECEIVED) == list(range(len(tags)))
