"""The Rust jsonl_sink in a pipeline: it writes only through the dir it is granted."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataflare import StageFailed
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan
from support.guests import built_guest


def _pipeline(tmp_path: Path, allow: str) -> Path:
    sink = built_guest("rust", "jsonl_sink")
    (tmp_path / "in.jsonl").write_text('{"n": 1}\n{"n": 2}\n')
    path = tmp_path / "p.yaml"
    path.write_text(
        "sources:\n  - {id: src, type: jsonl, config: {path: in.jsonl}}\n"
        "sinks:\n  - id: out\n    type: plugin\n"
        f"    config: {{plugin_type: sink, plugin_source: wasm, plugin_path: {sink}, "
        "params: {path: /out/records.jsonl}}\n"
        f"{allow}"
    )
    return path


@pytest.mark.guests
def test_the_rust_sink_writes_through_its_granted_dir(tmp_path):
    (tmp_path / "out").mkdir()
    path = _pipeline(tmp_path, "    allow: {dirs: [{host: out, guest: /out, mode: rw}]}\n")
    Executor(load_plan(path)).run()
    assert (tmp_path / "out" / "records.jsonl").read_text().splitlines() == [
        '{"n": 1}',
        '{"n": 2}',
    ]


@pytest.mark.guests
def test_without_a_grant_the_rust_sink_gets_an_io_error(tmp_path):
    path = _pipeline(tmp_path, "")
    with pytest.raises(StageFailed, match=r"stage 'out' failed in connect: io: cannot open "
                       r"/out/records.jsonl"):  # fmt: skip
        Executor(load_plan(path)).run()


@pytest.mark.guests
def test_a_read_only_grant_refuses_the_write(tmp_path):
    (tmp_path / "out").mkdir()
    path = _pipeline(tmp_path, "    allow: {dirs: [{host: out, guest: /out, mode: ro}]}\n")
    with pytest.raises(StageFailed, match=r"stage 'out' failed in connect: io: cannot open"):
        Executor(load_plan(path)).run()
    assert list((tmp_path / "out").iterdir()) == []
