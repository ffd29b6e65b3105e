# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""`reload: watch`: validated with located errors; a changed file (new bytes, held still) asks for one swap."""

from __future__ import annotations

import os
from concurrent.futures import Future
from pathlib import Path

import pytest
from dataflare.errors import ConfigFileError
from dataflare.pipeline import load_plan
from dataflare.pipeline.config import load_config
from dataflare.pipeline.hotplug import SwapOutcome, file_sha256
from dataflare.pipeline.reload_watch import ReloadWatch
from dataflare.plugins import registry

TAIL = "sinks:\n  - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}\n"
SOURCE = (
    "sources:\n  - {id: s, type: plugin, config: {plugin_type: source, plugin_name: test_range}}\n"
)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as info:
        load_config(path, direct_types=registry.available)
    return info.value.problems


@pytest.fixture
def wasm(tmp_path: Path) -> Path:
    path = tmp_path / "p.wasm"
    path.write_bytes(b"\0asm")
    return path


def test_reload_watch_is_kept_on_a_wasm_processor(write_yaml, wasm):
    path = write_yaml(
        SOURCE
        + "processors:\n  - {id: p, type: plugin, reload: watch, config: {plugin_type: transform, plugin_source: wasm, plugin_path: p.wasm}}\n"
        + TAIL
    )
    config = load_config(path, direct_types=registry.available)
    assert config.processors[0].reload is True
    assert config.sources[0].reload is False


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{id: p, type: plugin, reload: watch, config: {plugin_type: filter, plugin_name: test_even}}",
            "processors entry 'p': `reload` applies to WASM stages only (`plugin_source: wasm`)",
        ),
        (
            "{id: p, type: plugin, reload: always, config: {plugin_type: filter, plugin_source: wasm, plugin_path: p.wasm}}",
            "processors entry 'p': `reload`: expected `watch` or `off`, got a string 'always'",
        ),
    ],
)
def test_a_bad_reload_is_located(write_yaml, wasm, entry, message):
    path = write_yaml(SOURCE + f"processors:\n  - {entry}\n" + TAIL)
    [problem] = problems_of(path)
    # the key's column, or the value's when the value is the problem
    col = entry.index("reload") + 5 + (len("reload: ") if "always" in entry else 0)
    assert problem.startswith(f"{path}:4:{col}: {message}")


def test_reload_on_a_wasm_sink_is_refused(write_yaml, wasm):
    path = write_yaml(
        SOURCE
        + "sinks:\n  - {id: k, type: plugin, reload: watch, config: {plugin_type: sink, plugin_source: wasm, plugin_path: p.wasm}}\n"
    )
    [problem] = problems_of(path)
    assert problem == (
        f"{path}:4:27: sinks entry 'k': `reload` applies to filter, transform and aggregate "
        "stages only, not to sink stages: a sink's open transaction belongs to the instance "
        "that holds it"
    )


class FakeHotPlug:
    """What the watcher uses of `HotPlug`: the running file and `request`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha = file_sha256(path)
        self.requests: list[str] = []

    def running(self, stage: str) -> tuple[Path | None, str | None]:
        return self.path, self.sha

    def request(self, stage: str, path: Path | None = None) -> Future[SwapOutcome]:
        self.requests.append(stage)
        return Future()


def rewrite(path: Path, data: bytes, mtime: int) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(mtime, mtime))


def test_a_changed_file_is_requested_once_after_it_held_still(wasm):
    hotplug = FakeHotPlug(wasm)
    watch = ReloadWatch(hotplug, ["p"])  # type: ignore[arg-type]
    watch.start()
    try:
        watch.check()
        assert hotplug.requests == []  # unchanged
        rewrite(wasm, b"\0asm v2", 10**18)
        watch.check()
        assert hotplug.requests == []  # just changed: it may still be being written
        watch.check()
        assert hotplug.requests == ["p"]
        watch.check()
        assert hotplug.requests == ["p"]  # one request per change
    finally:
        watch.stop()


def test_the_same_bytes_again_ask_for_nothing(wasm):
    hotplug = FakeHotPlug(wasm)
    watch = ReloadWatch(hotplug, ["p"])  # type: ignore[arg-type]
    watch.start()
    try:
        rewrite(wasm, wasm.read_bytes(), 10**18)  # touched, or rebuilt to the same bytes
        watch.check()
        watch.check()
        assert hotplug.requests == []
    finally:
        watch.stop()


def test_a_pipeline_with_reload_watch_runs(write_yaml, tmp_path):
    """A plan with `reload: watch` loads (the key reaches the stage config)."""
    from support.guests import v0_1_fixture

    echo = v0_1_fixture("echo.rust", tmp_path)
    path = write_yaml(
        SOURCE
        + f"processors:\n  - {{id: e, type: plugin, reload: watch, config: {{plugin_type: transform, plugin_source: wasm, plugin_path: {echo}, params: {{tag: t}}}}}}\n"
        + TAIL
    )
    plan = load_plan(path)
    try:
        assert plan.processors[0].config.reload
    finally:
        plan.close()
