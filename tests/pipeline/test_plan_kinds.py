# ruff: noqa: E501  (YAML fixtures read best on one line)
"""A plan types each stage by its kind; a plugin lacking its kind's methods is a config problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataflare.errors import ConfigFileError
from dataflare.model import PluginInfo, PluginKind, Record
from dataflare.pipeline import load_plan
from dataflare.pipeline.planner import FilterStage, SinkStage, SourceStage, TransformStage


class _HalfTransform:
    """Describes itself as a transform but has no `transform_batch`."""

    closed = False

    def describe(self) -> PluginInfo:
        return PluginInfo(name="half", version="0", kind=PluginKind.TRANSFORM)

    def configure(self, config: object) -> None:
        pass

    def transform(self, record: Record) -> Record:
        return record

    def close(self) -> None:
        _HalfTransform.closed = True


PIPELINE = """
        sources:
          - {id: nums, type: test_range, config: {count: 3}}
        processors:
          - {id: keep, type: plugin, config: {plugin_type: filter, plugin_name: test_even}}
          - {id: half, type: plugin, config: {plugin_type: transform, plugin_source: wasm, plugin_path: p.wasm}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
        """


def test_a_plugin_without_its_kinds_methods_is_refused_before_the_run(write_yaml, tmp_path: Path):
    (tmp_path / "p.wasm").write_bytes(b"\0asm")
    path = write_yaml(PIPELINE)
    with pytest.raises(ConfigFileError) as info:
        load_plan(path, wasm_loader=lambda *args: _HalfTransform())
    [problem] = info.value.problems
    assert "plugin 'half' lacks methods of a transform plugin" in problem
    assert _HalfTransform.closed


def test_stages_come_out_typed_by_kind(write_yaml, tmp_path: Path):
    native = PIPELINE.replace("plugin_source: wasm, plugin_path: p.wasm", "plugin_name: test_square")
    path = write_yaml(native)
    plan = load_plan(path)
    try:
        assert [type(s) for s in plan.sources] == [SourceStage]
        assert [type(s) for s in plan.processors] == [FilterStage, TransformStage]
        assert [type(s) for s in plan.sinks] == [SinkStage]
    finally:
        plan.close()
