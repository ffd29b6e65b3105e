"""0.1.0 and 0.2.0 components side by side: each through its own adapters; others refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataflare.cli import main
from dataflare.errors import WorldMismatchError
from dataflare.model import PluginKind, Record
from dataflare.plugins import wasm, wasm_columns
from dataflare.plugins.wasm import load_wasm_plugin
from runtime.builders import WIT_0_2, dummy_component, wit_copy
from support.guests import built_v0_2_guest, v0_1_fixture

RUST_0_1 = {
    "json_filter": PluginKind.FILTER,
    "mask_email": PluginKind.TRANSFORM,
    "count_sum": PluginKind.AGGREGATE,
    "gen_source": PluginKind.SOURCE,
    "jsonl_sink": PluginKind.SINK,
}
RECORDS = [
    Record(value=b'{"a":1}'),
    Record(value=b'{"a":2}'),
    Record(value=b"not json"),
    Record(value=b'{"a":"1"}', key=b"k", timestamp=5, metadata={"m": "n"}),
]


@pytest.mark.parametrize(("name", "kind"), RUST_0_1.items())
def test_every_0_1_example_loads_through_the_0_1_adapters(
    tmp_path: Path, name: str, kind: PluginKind
) -> None:
    plugin = load_wasm_plugin(v0_1_fixture(f"{name}.rust", tmp_path))
    try:
        assert isinstance(plugin, wasm.ADAPTERS[kind])
        assert plugin.loaded.version == plugin.loaded.world.version == "0.1.0"
        assert plugin.describe().kind is kind
    finally:
        plugin.close()


def outcomes(plugin: object) -> list[str]:
    return [repr(o) for o in plugin.filter_batch(RECORDS)]  # type: ignore[attr-defined]


@pytest.mark.guests
def test_a_0_1_and_a_0_2_filter_run_side_by_side_and_agree(tmp_path: Path) -> None:
    old = load_wasm_plugin(v0_1_fixture("json_filter.rust", tmp_path))
    new = load_wasm_plugin(built_v0_2_guest("json_filter"))
    try:
        assert isinstance(old, wasm.WasmFilter)
        assert isinstance(new, wasm_columns.WasmColumnsFilter)
        for plugin in (old, new):
            plugin.configure({"field": "a", "value": "1"})
        assert outcomes(old) == outcomes(new)
        assert [repr(old.filter(r)) for r in RECORDS[:2]] == [
            repr(new.filter(r)) for r in RECORDS[:2]
        ]
    finally:
        old.close()
        new.close()


@pytest.mark.slow
def test_the_0_1_python_example_loads_from_its_gzipped_fixture(tmp_path: Path) -> None:
    plugin = load_wasm_plugin(v0_1_fixture("json_filter.python", tmp_path), PluginKind.FILTER)
    try:
        plugin.configure({"field": "a", "value": "1"})
        assert plugin.loaded.version == "0.1.0"
        assert plugin.filter_batch(RECORDS[:2]) == [True, False]
    finally:
        plugin.close()


@pytest.mark.parametrize("version", ["0.3.0", "1.0.0"])
def test_a_component_of_an_unknown_version_is_refused_naming_the_supported_ones(
    tmp_path: Path, version: str
) -> None:
    wit = wit_copy(tmp_path / "wit", version=version, source=WIT_0_2, source_version="0.2.0")
    path = dummy_component(wit, "filter", tmp_path / "future.wasm")
    with pytest.raises(WorldMismatchError) as info:
        load_wasm_plugin(path)
    text = str(info.value)
    assert text.startswith(f"{path}: cannot load as a DataFlare plugin")
    assert text.endswith(
        f"it was built for dataflare:plugin@{version}, a version this host does not support"
        " (it supports dataflare:plugin@0.1.x, dataflare:plugin@0.2.x)"
    )


def inspect(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["inspect", "--json", str(path)]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.guests
def test_inspect_shows_each_components_world_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = inspect(v0_1_fixture("json_filter.rust", tmp_path), capsys)
    new = inspect(built_v0_2_guest("json_filter"), capsys)
    assert (old["world"], old["world_version"]) == ("dataflare:plugin/filter", "0.1.0")
    assert (new["world"], new["world_version"]) == ("dataflare:plugin/filter", "0.2.0")
    assert "dataflare:plugin/log@0.2.0" in new["imports"]  # type: ignore[operator]
    assert main(["inspect", str(built_v0_2_guest("json_filter"))]) == 0
    assert "world        dataflare:plugin/filter@0.2.0" in capsys.readouterr().out


def test_inspect_of_a_native_plugin_shows_the_current_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["inspect", "--json", "filter/json_filter"]) == 0
    assert json.loads(capsys.readouterr().out)["world_version"] == "0.2.0"


def _pipeline(tmp_path: Path, filters: list[Path], out: str) -> dict[str, object]:
    return {
        "sources": [{"id": "src", "type": "jsonl", "config": {"path": "in.jsonl"}}],
        "processors": [
            {
                "id": f"f{i}",
                "type": "plugin",
                "config": {
                    "plugin_type": "filter",
                    "plugin_source": "wasm",
                    "plugin_path": str(path),
                    "params": {"field": "a", "value": "1"},
                },
            }
            for i, path in enumerate(filters)
        ],
        "sinks": [{"id": "out", "type": "jsonl", "config": {"path": out}}],
    }


@pytest.mark.guests
def test_a_pipeline_mixing_0_1_and_0_2_filters_gives_the_all_0_2_output(tmp_path: Path) -> None:
    from dataflare import run_pipeline

    lines = [json.dumps({"a": i % 3, "n": i}) for i in range(50)] + ['{"a": "1"}']
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    old = v0_1_fixture("json_filter.rust", tmp_path)
    new = built_v0_2_guest("json_filter")
    run_pipeline(_pipeline(tmp_path, [old, new], "mixed.jsonl"), base_dir=tmp_path)
    run_pipeline(_pipeline(tmp_path, [new, new], "all_0_2.jsonl"), base_dir=tmp_path)
    mixed = (tmp_path / "mixed.jsonl").read_text()
    assert mixed == (tmp_path / "all_0_2.jsonl").read_text()
    kept = [json.loads(x) for x in mixed.splitlines()]
    assert kept == [{"a": 1, "n": n} for n in range(1, 50, 3)] + [{"a": "1"}]
