# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""Input a source cannot decode is located, counted on the source and follows its ``on_error``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from dataflare import StageFailed
from dataflare.errors import ProcessingError
from dataflare.model import Record
from dataflare.pipeline import (
    META_KIND,
    META_MESSAGE,
    META_STAGE,
    Executor,
    load_plan,
    run_pipeline,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WriteYaml = Callable[..., Path]

BAD = b'{"id": 500, "amount": 12,,}'
REASON = (
    "invalid JSON: Expecting property name enclosed in double quotes: line 1 column 26 (char 25)"
)


def amounts(path: Path, bad_at: int = 500, n: int = 1001) -> None:
    """`n` lines of {"id", "amount"}, line `bad_at` malformed (the issue's file)."""
    with path.open("wb") as f:
        for i in range(1, n + 1):
            f.write((BAD if i == bad_at else json.dumps({"id": i, "amount": i}).encode()) + b"\n")


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


PIPELINE = """
    batch_size: 100
    sources:
      - {{id: in, type: jsonl, {policy} config: {{path: in.jsonl}}}}
    processors:
      - {{id: amount, type: plugin, config: {{plugin_type: filter, plugin_name: json_filter, params: {{field: amount, value: 12}}}}}}
    sinks:
      - {{id: out, type: jsonl, config: {{path: out.jsonl}}}}
      - {{id: rej, type: jsonl, config: {{path: rej.jsonl, format: record}}}}
    """


@pytest.mark.parametrize("processors", [True, False])
def test_a_bad_line_stops_the_run_naming_file_line_and_on_error(
    write_yaml: WriteYaml, tmp_path: Path, processors: bool
) -> None:
    amounts(tmp_path / "in.jsonl")
    text = PIPELINE.format(policy="")
    if not processors:  # the sink used to blame itself and suggest `format: record`
        text = text.replace(text[text.index("    processors:") : text.index("    sinks:")], "")
    path = write_yaml(text)
    with pytest.raises(StageFailed) as info:
        run_pipeline(path)
    assert str(info.value) == (
        f"stage 'in' failed on a record: serialization: {tmp_path / 'in.jsonl'}:500: {REASON} "
        "(the source's on_error is fail; set it to skip or dead_letter to keep going without such records)"
    )


def test_skip_drops_only_the_bad_line_and_counts_it_on_the_source(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    amounts(tmp_path / "in.jsonl", bad_at=12)
    stats = run_pipeline(write_yaml(PIPELINE.format(policy="on_error: skip,")))
    assert stats.stages["in"].errors == 1
    assert stats.stages["in"].records_out == 1000
    assert stats.stages["amount"].errors == 0
    assert lines(tmp_path / "out.jsonl") == []  # line 12 was the only amount 12
    amounts(tmp_path / "in.jsonl", bad_at=500)
    run_pipeline(write_yaml(PIPELINE.format(policy="on_error: skip,")))
    assert lines(tmp_path / "out.jsonl") == [{"id": 12, "amount": 12}]


def test_a_dead_letter_keeps_the_raw_line(write_yaml: WriteYaml, tmp_path: Path) -> None:
    amounts(tmp_path / "in.jsonl")
    stats = run_pipeline(
        write_yaml(PIPELINE.format(policy="on_error: dead_letter, dead_letter: rej,"))
    )
    [letter] = lines(tmp_path / "rej.jsonl")
    assert letter["value"] == BAD.decode()
    assert letter["metadata"] == {
        META_STAGE: "in",
        META_KIND: "serialization",
        META_MESSAGE: f"{tmp_path / 'in.jsonl'}:500: {REASON}",
    }
    assert stats.stages["in"].errors == 1
    assert stats.stages["rej"].records_out == 1
    assert lines(tmp_path / "out.jsonl") == [{"id": 12, "amount": 12}]


def test_a_bad_line_that_is_not_utf8_is_dead_lettered_byte_for_byte(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    (tmp_path / "in.jsonl").write_bytes(b'{"a": 1}\n"\xff"\n')
    path = write_yaml(
        """
        sources:
          - {id: in, type: jsonl, on_error: dead_letter, dead_letter: rej, config: {path: in.jsonl}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
          - {id: rej, type: jsonl, config: {path: rej.jsonl, format: record}}
        """
    )
    run_pipeline(path)
    [letter] = lines(tmp_path / "rej.jsonl")
    assert letter["value_base64"] == "Iv8i"  # b'"\xff"'
    assert lines(tmp_path / "out.jsonl") == [{"a": 1}]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.booleans(), max_size=12), st.integers(1, 4))
def test_batches_of_only_bad_lines_do_not_end_the_stream(
    write_yaml: WriteYaml, tmp_path: Path, good: list[bool], batch_size: int
) -> None:
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps({"n": i}) + "\n" if ok else "oops\n" for i, ok in enumerate(good))
    )
    path = write_yaml(
        f"""
        batch_size: {batch_size}
        sources:
          - {{id: in, type: jsonl, on_error: skip, config: {{path: in.jsonl}}}}
        sinks:
          - {{id: out, type: jsonl, config: {{path: out.jsonl}}}}
        """
    )
    stats = run_pipeline(path)
    assert lines(tmp_path / "out.jsonl") == [{"n": i} for i, ok in enumerate(good) if ok]
    assert stats.stages["in"].errors == good.count(False)


def test_a_ragged_csv_row_fails_only_that_row(write_yaml: WriteYaml, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9,10,11\n12,13,14\n")
    text = """
        sources:
          - {id: in, type: csv, POLICY config: {path: in.csv}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
          - {id: rej, type: jsonl, config: {path: rej.jsonl, format: record}}
        """
    with pytest.raises(
        StageFailed,
        match=r"stage 'in' failed on a record: serialization: plugin 'csv': .*in\.csv:4: 5 cells for 3 columns \(the source's on_error is fail",
    ):
        run_pipeline(write_yaml(text.replace("POLICY", "")))
    stats = run_pipeline(
        write_yaml(text.replace("POLICY", "on_error: dead_letter, dead_letter: rej,"))
    )
    assert [row["a"] for row in lines(tmp_path / "out.jsonl")] == [1, 4, 12]
    assert [letter["value"] for letter in lines(tmp_path / "rej.jsonl")] == ["7,8,9,10,11"]
    assert stats.stages["in"].errors == 1


def test_deep_json_from_a_keyed_source_fails_one_record(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    deep = "[" * 1500 + "]" * 1500
    (tmp_path / "in.jsonl").write_text(f'{{"id": 1}}\n{{"id": {deep}}}\n{{"id": 2}}\n')
    path = write_yaml(
        """
        sources:
          - {id: in, type: jsonl, on_error: skip, config: {path: in.jsonl, key_field: id}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
        """
    )
    stats = run_pipeline(path)
    assert lines(tmp_path / "out.jsonl") == [{"id": 1}, {"id": 2}]
    assert stats.stages["in"].errors == 1


def test_deep_json_reaching_the_sinks_fails_one_record(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    # Envelopes carry the deep value as text, so it reaches the sinks unparsed.
    deep = "[" * 50_000 + "]" * 50_000
    values = ['{"id": 1}', deep, '{"id": 2}']
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"value": v}) + "\n" for v in values))
    path = write_yaml(
        """
        sources:
          - {id: in, type: jsonl, config: {path: in.jsonl, format: record}}
        sinks:
          - {id: out, type: jsonl, on_error: skip, config: {path: out.jsonl}}
          - {id: db, type: sqlite, on_error: skip, config: {path: out.db, table: t}}
        """
    )
    stats = run_pipeline(path)
    assert lines(tmp_path / "out.jsonl") == [{"id": 1}, {"id": 2}]
    with sqlite3.connect(tmp_path / "out.db") as conn:
        assert [row[0] for row in conn.execute("SELECT id FROM t")] == [1, 2]
    assert stats.stages["out"].errors == stats.stages["db"].errors == 1


class _PlainSource:
    """A source with `read` only, as a WASM component is seen: no per-record failures."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name in ("read_batch", "read_columns_batch", "read_columns"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    def read(self, max_records: int) -> list[Record]:
        raise ProcessingError("the component's read failed")


def test_a_source_without_read_batch_still_fails_whole_reads(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    (tmp_path / "in.jsonl").write_text("{}\n")
    plan = load_plan(
        write_yaml(
            """
            sources:
              - {id: in, type: jsonl, on_error: skip, config: {path: in.jsonl}}
            sinks:
              - {id: out, type: jsonl, config: {path: out.jsonl}}
            """
        )
    )
    plan.sources[0].plugin = _PlainSource(plan.sources[0].plugin)  # type: ignore[assignment]
    with pytest.raises(
        StageFailed,
        match=r"^stage 'in' failed in read: processing: the component's read failed$",
    ):
        Executor(plan).run()
