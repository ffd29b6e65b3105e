"""Per-batch positions in-process: resume, exactly-once bookkeeping, refusal to guess."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from dataflare.errors import PipelineError
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan


def _setup(tmp_path: Path, count: int) -> Path:
    with (tmp_path / "in.jsonl").open("a") as handle:
        for n in range(count):
            handle.write(json.dumps({"n": n}) + "\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "batch_size: 3\n"
        "sources:\n  - {id: src, type: jsonl, config: {path: in.jsonl, resume: true}}\n"
        "processors:\n  - {id: odd, type: plugin, config: {plugin_type: filter, "
        "plugin_name: json_filter, params: {field: n, value: 1}}}\n"
        "sinks:\n  - {id: db, type: sqlite, config: {path: out.db, table: t}}\n"
        "  - {id: file, type: jsonl, config: {path: out.jsonl, mode: append}}\n"
    )
    return path


def _rows(tmp_path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "out.db") as db:
        return db.execute("SELECT n FROM t ORDER BY rowid").fetchall()


def test_a_rerun_reads_only_lines_appended_since(tmp_path):
    path = _setup(tmp_path, 10)
    assert Executor(load_plan(path)).run().records_read == 10
    assert _rows(tmp_path) == [(1,)]
    with (tmp_path / "in.jsonl").open("a") as handle:
        handle.write('{"n": 1}\n{"n": 2}\n')
    assert Executor(load_plan(path)).run().records_read == 2
    assert _rows(tmp_path) == [(1,), (1,)]
    assert (tmp_path / "out.jsonl").read_text().splitlines() == ['{"n": 1}', '{"n": 1}']


def test_the_sink_records_the_position_of_batches_it_got_nothing_from(tmp_path):
    path = _setup(tmp_path, 10)
    Executor(load_plan(path)).run()
    with sqlite3.connect(tmp_path / "out.db") as db:
        ((scope, source, position),) = db.execute("SELECT * FROM dataflare_positions").fetchall()
    assert scope.endswith("p.state.json#db") and source == "src"
    saved = json.loads((tmp_path / ".dataflare" / "p.state.json").read_text())
    # a jsonl position also names its file (name, identity, first bytes' digest)
    assert json.loads(position) | {"offset": 90, "line": 10} == json.loads(position)
    assert json.loads(position)["path"] == str(tmp_path / "in.jsonl")
    assert saved["sources"]["src"]["plugin"] == "native:jsonl"


def test_a_sink_ahead_of_a_lost_state_file_stops_the_run_instead_of_guessing(tmp_path):
    path = _setup(tmp_path, 10)
    Executor(load_plan(path)).run()
    (tmp_path / ".dataflare" / "p.state.json").unlink()
    with pytest.raises(PipelineError, match=r"sink 'db' committed source 'src' up to .* "
                       r"exactly-once cannot be kept"):  # fmt: skip
        Executor(load_plan(path)).run()
    assert _rows(tmp_path) == [(1,)]
