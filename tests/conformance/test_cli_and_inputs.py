"""The CLI's argument handling, the budget arithmetic and the standard inputs."""

from __future__ import annotations

import argparse

import pytest
from dataflare.cli import main
from dataflare.cli.check_cmd import parse_param
from dataflare.conformance import Budget
from dataflare.conformance._inputs import (
    I64_MAX,
    I64_MIN,
    LARGE_VALUE_BYTES,
    large_record,
    record_size,
    records,
    render,
    standard_records,
)
from hypothesis import given


def test_parse_param_splits_on_the_first_equals_sign():
    assert parse_param("a=b=c") == ("a", "b=c")
    assert parse_param("empty=") == ("empty", "")
    for bad in ("novalue", "=x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_param(bad)


def test_check_rejects_zero_examples_and_a_missing_file(tmp_path, capsys):
    assert main(["check", str(tmp_path / "x.wasm"), "--examples", "0"]) == 2
    assert main(["check", str(tmp_path / "missing.wasm"), "--format", "json"]) == 1
    assert '"status": "fail"' in capsys.readouterr().out


def test_fuel_budget_grows_with_the_bytes_passed_in():
    budget = Budget(fuel_base=10, fuel_per_byte=3)
    assert budget.fuel_for(0) == 10
    assert budget.fuel_for(100) == 310
    assert Budget().to_json()["memory_bytes"] == 256 << 20


def test_standard_inputs_cover_the_edge_cases_of_the_issue():
    std = standard_records(["status"])
    values = [r.value for r in std]
    assert b"" in values
    assert any(_not_utf8(v) for v in values)
    assert {I64_MIN, I64_MAX, None} <= {r.timestamp for r in std}
    assert any(r.key is None for r in std)
    assert any(r.metadata == [] for r in std)
    assert any(any(ord(c) > 127 for k, v in r.metadata for c in k + v) for r in std)
    assert any(b'"status"' in v for v in values)
    big = large_record()
    assert len(big.value) == LARGE_VALUE_BYTES
    assert "(1048576 bytes)" in render(big)


@given(records(["field"]))
def test_generated_records_fit_the_wit_types(record):
    assert isinstance(record.value, bytes)
    assert record.timestamp is None or I64_MIN <= record.timestamp <= I64_MAX
    for name, value in record.metadata:
        name.encode("utf-8")
        value.encode("utf-8")  # no lone surrogates: WIT strings are Unicode scalar values
    assert record_size(record) >= len(record.value)


def _not_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_check_takes_p_for_param_as_test_does(tmp_path, capsys):
    # the README writes `dataflare check PLUGIN -p field=status`: argparse must accept it
    args = ["check", str(tmp_path / "missing.wasm"), "-p", "field=status", "--format", "json"]
    assert main(args) == 1
    assert '"status": "fail"' in capsys.readouterr().out
