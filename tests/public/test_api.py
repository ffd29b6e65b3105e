"""What `import dataflare` offers a user, and what `dataflare --help` must not load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dataflare
import pytest
from dataflare.builtin.json_filter import JsonFilter

ROOT = Path(__file__).resolve().parents[2]

# Heavy or optional: none of these may load to print the help.
NOT_FOR_HELP = (
    "wasmtime",
    "psycopg",
    "jinja2",
    "yaml",
    "rich",
    "hypothesis",
    "dataflare.abi",
    "dataflare.bindgen",
    "dataflare._wit",
    "dataflare.runtime",
    "dataflare.pipeline",
    "dataflare.connectors.jsonl",
    "dataflare.connectors.postgres",
    "dataflare.conformance._runner",
)


def _modules_after(code: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "host")}
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return set(out.stdout.split())


def _loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_help_loads_no_runtime_generator_or_connector_dependency() -> None:
    modules = _modules_after(
        "from dataflare.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert "dataflare.cli.run_cmd" in modules  # the help did list the subcommands
    assert [name for name in NOT_FOR_HELP if _loaded(modules, name)] == []


def test_psycopg_loads_only_for_a_pipeline_that_uses_postgres(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n')
    pipeline = {
        "sources": [{"id": "src", "type": "jsonl", "config": {"path": "in.jsonl"}}],
        "sinks": [{"id": "out", "type": "jsonl", "config": {"path": "out.jsonl"}}],
    }
    modules = _modules_after(
        "import dataflare\n"
        f"dataflare.run_pipeline({pipeline!r}, base_dir={str(tmp_path)!r})\n"
        "from dataflare.plugins import registry\n"
        "assert 'postgres' in registry.available('sink')"
    )
    assert (tmp_path / "out.jsonl").read_text() == '{"a": 1}\n'
    assert not _loaded(modules, "psycopg")
    assert not _loaded(modules, "dataflare.connectors.postgres")


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from dataflare.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"dataflare {dataflare.__version__}"


def test_a_subcommand_module_that_cannot_import_is_an_error_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataflare.cli

    monkeypatch.setattr(dataflare.cli, "_SUBCOMMANDS", ("run", "no_such"))
    with pytest.raises(ModuleNotFoundError, match="no_such_cmd"):
        dataflare.cli.build_parser()


def test_run_pipeline_takes_a_dict_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"status": "active"}\n{"status": "gone"}\n')
    stats = dataflare.run_pipeline(
        {
            "sources": [{"id": "src", "type": "jsonl", "config": {"path": "in.jsonl"}}],
            "processors": [
                {
                    "id": "keep",
                    "type": "plugin",
                    "config": {
                        "plugin_type": "filter",
                        "plugin_name": "json_filter",
                        "params": {"field": "status", "value": "active"},
                    },
                }
            ],
            "sinks": [{"id": "out", "type": "jsonl", "config": {"path": "out.jsonl"}}],
        },
        base_dir=tmp_path,
    )
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"status": "active"}]
    assert isinstance(stats, dataflare.RunStats)


def test_a_dict_pipeline_reports_problems_as_a_config_file_error(tmp_path: Path) -> None:
    with pytest.raises(dataflare.ConfigFileError, match="<dict>"):
        dataflare.run_pipeline({"sources": [], "sinks": [], "bogus": 1}, base_dir=tmp_path)


def test_open_plugin_opens_and_configures_a_native_plugin() -> None:
    plugin = dataflare.open_plugin("filter/json_filter", config={"field": "a", "value": "1"})
    assert isinstance(plugin, JsonFilter)
    assert plugin.filter(dataflare.Record(b'{"a": 1}')) is True
    with pytest.raises(dataflare.ConfigurationError):
        dataflare.open_plugin("json_filter", "filter", config={"nope": "1"})


def test_open_plugin_reads_a_path_object_as_a_component(tmp_path: Path) -> None:
    with pytest.raises(dataflare.ComponentLoadError):
        dataflare.open_plugin(tmp_path / "json_filter")  # a path, even without .wasm


def test_a_native_plugin_registered_through_the_top_level_api_is_found() -> None:
    @dataflare.register("filter", "public_api_non_empty")
    class NonEmpty(dataflare.FilterBase):
        def filter(self, record: dataflare.Record) -> bool:
            return bool(record.value)

    plugin = dataflare.open_plugin("public_api_non_empty")
    assert isinstance(plugin, NonEmpty)
