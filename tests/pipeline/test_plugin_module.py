# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""`plugin_module: file.py` in a pipeline: the file's registered classes run, bad files are located problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataflare.errors import ConfigFileError
from dataflare.pipeline import load_plan, run_pipeline
from dataflare.plugins import registry

AMOUNT_MIN = """
import json
import dataflare
from dataflare.model import ParamInfo
from dataflare.plugins.base import FilterBase

@dataflare.register("filter", "amount_min")
class AmountMin(FilterBase):
    params = (ParamInfo("min", "smallest amount kept", default="10"),)

    def filter(self, record):
        return json.loads(record.value)["amount"] >= float(self.param("min"))
"""


def pipeline(module: str = "plugins/amount.py", name: str = "amount_min") -> str:
    return f"""
        sources:
          - id: in
            type: jsonl
            config: {{path: in.jsonl}}
        processors:
          - id: big
            type: plugin
            config:
              plugin_type: filter
              plugin_name: {name}
              plugin_module: {module}
              params: {{min: 20}}
        sinks:
          - id: out
            type: jsonl
            config: {{path: out.jsonl}}
        """


def problems_of(path: Path) -> list[str]:
    (path.parent / "in.jsonl").touch()
    with pytest.raises(ConfigFileError) as info:
        load_plan(path).close()
    return info.value.problems


def write_plugin(tmp_path: Path, text: str = AMOUNT_MIN, name: str = "amount.py") -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plugin_module_runs_the_registered_class(tmp_path, write_yaml):
    write_plugin(tmp_path)
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps({"amount": a}) + "\n" for a in (5, 20, 30))
    )
    stats = run_pipeline(write_yaml(pipeline()))
    kept = [
        json.loads(line)["amount"] for line in (tmp_path / "out.jsonl").read_text().splitlines()
    ]
    assert kept == [20, 30], stats
    # Kept to the file: the global registry does not gain `amount_min`.
    assert "amount_min" not in registry.available("filter")


def test_missing_module_names_file_line_and_field(tmp_path, write_yaml):
    path = write_yaml(pipeline(module="plugins/nope.py"))
    (message,) = problems_of(path)
    assert message.startswith(f"{path}:11:")
    assert "`plugin_module`: file not found" in message
    assert str(tmp_path / "plugins" / "nope.py") in message


def test_import_error_gives_the_traceback_last_line(tmp_path, write_yaml):
    write_plugin(tmp_path, "import json\nraise ValueError('bad min table')\n", name="broken.py")
    path = write_yaml(pipeline(module="plugins/broken.py"))
    (message,) = problems_of(path)
    assert message.startswith(f"{path}:11:")
    assert "importing" in message and "ValueError: bad min table" in message


def test_unregistered_name_lists_what_the_module_registered(tmp_path, write_yaml):
    write_plugin(tmp_path, name="other.py")
    path = write_yaml(pipeline(module="plugins/other.py", name="amount_max"))
    (message,) = problems_of(path)
    assert message.startswith(f"{path}:11:")
    assert "registers no filter plugin named 'amount_max'" in message
    assert "filter/amount_min" in message


def test_two_files_may_register_the_same_name(tmp_path, write_yaml):
    write_plugin(tmp_path, name="a.py")
    write_plugin(tmp_path, AMOUNT_MIN.replace(">=", "<"), name="b.py")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"amount": a}) + "\n" for a in (5, 30)))
    run_pipeline(write_yaml(pipeline(module="plugins/a.py")))
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 1
    run_pipeline(write_yaml(pipeline(module="plugins/b.py"), name="b.yaml"))
    assert json.loads((tmp_path / "out.jsonl").read_text().splitlines()[-1])["amount"] == 5


def test_plugin_module_is_not_for_wasm(tmp_path, write_yaml):
    write_plugin(tmp_path)
    text = pipeline().replace(
        "plugin_name: amount_min", "plugin_source: wasm\n              plugin_path: x.wasm"
    )
    (message,) = problems_of(write_yaml(text))
    assert "`plugin_module` is for native plugins" in message
