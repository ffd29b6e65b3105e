"""`dataflare inspect` and `dataflare test` on native plugins."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from dataflare.cli import build_parser, main
from dataflare.cli.test_cmd import read_records
from dataflare.errors import PluginIoError
from dataflare.model import ParamInfo, Record
from dataflare.plugins import registry
from dataflare.plugins.base import SinkBase, SourceBase
from hypothesis import given
from hypothesis import strategies as st


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def jsonl(tmp_path: Path, *lines: object) -> str:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return str(path)


def _containers(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)


def test_inspect_native_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", "filter/json_filter")
    assert code == 0
    assert out[0] == "plugin       json_filter 0.1.0 (filter)"
    assert "world        dataflare:plugin/filter@0.2.0" in out
    assert "exports      configure, describe, filter, filter-batch" in out
    assert any(line.split()[:2] == ["field", "required"] for line in out)


def test_inspect_json_and_bare_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", "mask_email", "--json")
    facts = json.loads("\n".join(out))
    assert code == 0
    assert facts["world"] == "dataflare:plugin/transform"
    assert facts["params"] == [
        {
            "name": "field",
            "required": False,
            "default": "email",
            "description": "top-level key holding the email address",
        }
    ]


def test_inspect_unknown_plugin_lists_native_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "inspect", "filter/nope")
    assert code == 2
    assert "no filter plugin named 'nope'; available: " in err
    assert "json_filter" in err


def test_test_filter_prints_one_line_per_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = jsonl(
        tmp_path,
        {"key": "k", "value": {"r": "EU"}, "timestamp": 1, "metadata": {"ü": "ñ"}},
        "",
        {"value": "not json"},
        {"value": '{"r": "US"}'},
    )
    code, out, _ = run(
        capsys,
        "test",
        "filter/json_filter",
        "--records",
        "-i",
        path,
        "-p",
        "field=r",
        "--param",
        "value=EU",
    )
    assert code == 1  # a record failed
    assert [json.loads(line) for line in out] == [
        {"line": 1, "keep": True},
        {"line": 3, "error": {"kind": "serialization", "message": "value is not valid JSON"}},
        {"line": 4, "keep": False},
    ]


@pytest.mark.parametrize("mode", [[], ["--one-by-one"], ["--batch-size", "1"]])
def test_test_transform_outputs_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    path = jsonl(tmp_path, {"key": None, "value": {"email": "ann@x.io", "b": 1.0}})
    code, out, _ = run(capsys, "test", "transform/mask_email", "--records", "-i", path, *mode)
    assert code == 0
    assert json.loads(out[0]) == {
        "line": 1,
        "record": {
            "key": None,
            "value": '{"b":1,"email":"a***@x.io"}',
            "timestamp": None,
            "metadata": {},
        },
    }


def test_test_aggregate_prints_errors_then_emitted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = jsonl(
        tmp_path,
        {"value": {"g": "a", "n": 2}},
        {"value": {"g": "a"}},
        {"value": {"g": "a", "n": 1}},
    )
    code, out, _ = run(
        capsys,
        "test",
        "count_sum",
        "--records",
        "-i",
        path,
        "-p",
        "group_by=g",
        "-p",
        "sum_field=n",
    )
    assert code == 1
    assert [json.loads(line) for line in out] == [
        {"line": 2, "error": {"kind": "processing", "message": 'missing field "n"'}},
        {
            "emit": {
                "key": "a",
                "value": '{"count":2,"group":"a","sum":3}',
                "timestamp": None,
                "metadata": {},
            }
        },
    ]


def test_test_reports_bad_configuration_and_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = jsonl(tmp_path, {"value": "{}"})
    code, _, err = run(capsys, "test", "json_filter", "--records", "-i", good, "-p", "field=r")
    assert code == 2
    assert "missing required parameter 'value'" in err

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"value": "{}"}\n{"value": \n')
    code, _, err = run(capsys, "test", "mask_email", "--records", "-i", str(bad))
    assert code == 2
    assert f"{bad}:2: not a record" in err


def test_test_param_needs_name_and_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["test", "json_filter", "-p", "novalue"])
    assert "expected NAME=VALUE" in capsys.readouterr().err


def test_help_documents_the_input_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["test", "--help"])
    text = capsys.readouterr().out
    assert '"value"' in text or "value " in text
    assert "value_base64" in text and "timestamp" in text and "metadata" in text
    assert "--records" in text and "one JSON value" in text


@registry.register("source", "cli_test_numbers")
class Numbers(SourceBase):
    """Emit the numbers 0..count-1, then end."""

    params = (ParamInfo("count", default="3"),)

    def connect(self) -> None:
        self.next = 0

    def read(self, max_records: int) -> list[Record]:
        stop = min(self.next + max_records, int(self.param("count")))
        out = [Record(str(i).encode(), timestamp=i) for i in range(self.next, stop)]
        self.next = stop
        return out


@registry.register("sink", "cli_test_picky")
class Picky(SinkBase):
    """Accept values that are not empty."""

    flushed = 0

    def write(self, record: Record) -> None:
        if not record.value:
            raise PluginIoError("empty value")

    def flush(self) -> None:
        Picky.flushed += 1


def test_test_source_reads_until_the_end_or_max(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", "source/cli_test_numbers", "-p", "count=250")
    assert code == 0
    assert len(out) == 250
    assert json.loads(out[-1])["record"] == {
        "key": None,
        "value": "249",
        "timestamp": 249,
        "metadata": {},
    }
    code, out, _ = run(capsys, "test", "cli_test_numbers", "--max", "5")
    assert [json.loads(line)["record"]["value"] for line in out] == ["0", "1", "2"]


def test_test_sink_reports_each_write_and_flushes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = jsonl(tmp_path, {"value": "a"}, {"value": ""}, {"value_base64": "AAE="})
    before = Picky.flushed
    code, out, _ = run(capsys, "test", "sink/cli_test_picky", "--records", "-i", path)
    assert code == 1
    assert [json.loads(line) for line in out] == [
        {"line": 1, "ok": True},
        {"line": 2, "error": {"kind": "io", "message": "empty value"}},
        {"line": 3, "ok": True},
    ]
    assert Picky.flushed == before + 1


def test_test_needs_input_unless_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "test", "sink/cli_test_picky")
    assert code == 2
    assert "--input is required" in err


def test_test_missing_input_file_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "test", "mask_email", "-i", str(tmp_path / "nope.jsonl"))
    assert code == 2
    assert "cannot read" in err and "nope.jsonl" in err


def test_test_reads_records_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"value": {"email": "x@y"}}\n'))
    code, out, _ = run(capsys, "test", "mask_email", "--records", "-i", "-")
    assert code == 0
    assert json.loads(out[0])["record"]["value"] == '{"email":"x***@y"}'


def test_test_reads_plain_json_values_like_a_jsonl_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What a pipeline's `jsonl` source reads: each line is a record's value.
    path = jsonl(tmp_path, {"email": "ann@x.io"}, "", {"value": {"email": "b@c.d"}}, "[1]")
    code, out, _ = run(capsys, "test", "transform/mask_email", "-i", path)
    assert code == 1  # the array is not an object: that record fails
    values = [json.loads(line).get("record", {}).get("value") for line in out]
    assert values == ['{"email":"a***@x.io"}', '{"value":{"email":"b@c.d"}}', None]
    assert json.loads(out[2]) == {
        "line": 4,
        "error": {"kind": "serialization", "message": "value is not a JSON object"},
    }


def test_test_names_a_line_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = jsonl(tmp_path, {"email": "a@b"}, "not json")
    code, _, err = run(capsys, "test", "mask_email", "-i", path)
    assert code == 2
    assert f"{path}:2: not a JSON value" in err


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), _containers))
def test_read_records_keeps_a_plain_line_as_the_value(value: object) -> None:
    line = json.dumps(value, ensure_ascii=False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        path.write_text(line + "\n", encoding="utf-8")
        assert list(read_records(path)) == [(1, Record(value=line.encode()))]


def test_test_and_check_share_the_plugin_options(capsys: pytest.CaptureFixture[str]) -> None:
    helps = {}
    for command in ("test", "check"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        helps[command] = capsys.readouterr().out
    for text in helps.values():
        assert "--param NAME=VALUE, -p NAME=VALUE" in text
        assert "--world {filter,transform,aggregate,source,sink}" in text
    assert "--records" in helps["test"]
    parser = build_parser()
    for command in ("test", "check"):
        args = parser.parse_args([command, "x.wasm", "-p", "a=1", "--param", "b=2=3"])
        assert args.param == [("a", "1"), ("b", "2=3")]
