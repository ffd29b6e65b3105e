"""`dataflare test` and `dataflare check` on a native plugin given as a `.py` file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataflare.cli import main

TWO_PLUGINS = """
import json
import dataflare
from dataflare.model import ParamInfo
from dataflare.plugins.base import FilterBase, TransformBase

@dataflare.register("filter", "amount_min")
class AmountMin(FilterBase):
    params = (ParamInfo("min", "smallest amount kept", default="10"),)

    def filter(self, record):
        return json.loads(record.value)["amount"] >= float(self.param("min"))

@dataflare.register("transform", "same")
class Same(TransformBase):
    def transform(self, record):
        return record
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    plugin = tmp_path / "plugins.py"
    plugin.write_text(TWO_PLUGINS, encoding="utf-8")
    records = tmp_path / "records.jsonl"
    # plain values, one per line: what a jsonl source would read
    records.write_text("".join(json.dumps({"amount": a}) + "\n" for a in (5, 15)))
    return str(plugin), str(records)


def test_test_a_plugin_file_by_name(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    plugin, records = files
    code, out, err = run(capsys, "test", plugin, "--name", "amount_min", "-i", records)
    assert code == 0, err
    assert [json.loads(line) for line in out] == [
        {"line": 1, "keep": False},
        {"line": 2, "keep": True},
    ]


def test_test_a_plugin_file_by_world(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    plugin, records = files
    code, out, err = run(capsys, "test", plugin, "--world", "filter", "-i", records, "-p", "min=1")
    assert code == 0, err
    assert [json.loads(line)["keep"] for line in out] == [True, True]


def test_test_a_file_with_several_plugins_asks_for_a_name(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    plugin, records = files
    code, _, err = run(capsys, "test", plugin, "-i", records)
    assert code == 2
    assert "registers several: filter/amount_min, transform/same; say which with --name" in err


def test_test_a_plugin_file_unknown_name_lists_its_plugins(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    plugin, records = files
    code, _, err = run(capsys, "test", plugin, "--name", "nope", "-i", records)
    assert code == 2
    assert "registers no plugin named 'nope'; it registers: " in err
    assert "filter/amount_min, transform/same" in err


def test_test_a_missing_plugin_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "test", str(tmp_path / "gone.py"), "-i", "-")
    assert code == 2
    assert "plugin module not found" in err
