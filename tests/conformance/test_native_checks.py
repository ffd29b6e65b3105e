"""`dataflare check` on native plugins: the checks that apply run through the native protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataflare.cli import main

from conformance.schema import validate

PLUGINS = """
import json
import dataflare
from dataflare.errors import SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import AggregateBase, FilterBase

@dataflare.register("filter", "amount_min")
class AmountMin(FilterBase):
    params = (ParamInfo("min", "smallest amount kept", default="10"),)

    def filter(self, record):
        try:
            amount = json.loads(record.value)["amount"]
        except (ValueError, TypeError, KeyError) as exc:
            raise SerializationError(f"no amount: {exc}") from None
        return isinstance(amount, int | float) and amount >= float(self.param("min"))

@dataflare.register("filter", "naive")
class Naive(FilterBase):
    def filter(self, record):
        return json.loads(record.value)["amount"] > 0

@dataflare.register("aggregate", "count_bad_merge")
class CountBadMerge(AggregateBase):
    def init(self):
        return b"0"

    def aggregate(self, acc, record):
        return str(int(acc) + 1).encode()

    def emit(self, acc):
        return [Record(acc)]

    def merge(self, a, b):
        return a  # forgets b's records
"""


@pytest.fixture
def plugin_file(tmp_path: Path) -> str:
    path = tmp_path / "plugins.py"
    path.write_text(PLUGINS, encoding="utf-8")
    return str(path)


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, str], dict]:
    code = main(["check", *argv, "--format", "json", "--examples", "8"])
    report = json.loads(capsys.readouterr().out)
    validate(report)
    return code, {c["name"]: c["status"] for c in report["checks"]}, report


def test_check_a_builtin_native_plugin_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, status, report = check(
        capsys, "filter/json_filter", "-p", "field=status", "-p", "value=active"
    )
    assert code == 0
    assert report["kind"] == "filter"
    assert {n: status[n] for n in ("describe", "configure", "no-trap", "determinism", "batch")} == {
        n: "pass" for n in ("describe", "configure", "no-trap", "determinism", "batch")
    }
    assert status["world"] == status["resource-budget"] == "skip"


def test_check_a_plugin_file_passes(plugin_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, status, report = check(capsys, plugin_file, "--name", "amount_min")
    assert code == 0, status
    assert report["plugin"].endswith("(filter/amount_min)")
    assert status["batch"] == "pass"


def test_an_exception_other_than_plugin_error_fails_no_trap(
    plugin_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, status, report = check(capsys, plugin_file, "--name", "naive")
    assert code == 1
    assert status["no-trap"] == "fail"
    detail = next(c for c in report["checks"] if c["name"] == "no-trap")
    assert "JSONDecodeError" in detail["detail"]


def test_a_merge_that_loses_records_fails_merge(
    plugin_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, status, _ = check(capsys, plugin_file, "--name", "count_bad_merge")
    assert code == 1
    assert status["merge"] == "fail"
    assert status["aggregate-fold"] == status["batch"] == "pass"


def test_a_native_sink_gets_describe_and_configure_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, status, report = check(capsys, "sink/jsonl", "-p", f"path={tmp_path / 'out.jsonl'}")
    assert code == 0
    assert status["describe"] == status["configure"] == "pass"
    skipped = next(c for c in report["checks"] if c["name"] == "no-trap")
    assert skipped["status"] == "skip" and "pipeline" in skipped["detail"]
