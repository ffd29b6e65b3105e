"""A source with `committed` is told each position once the state file holds it, never before."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import ClassVar

from dataflare.model import ParamInfo, Record
from dataflare.pipeline import checkpoints
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan
from dataflare.plugins.base import SourceBase
from dataflare.plugins.registry import register


@register("source", "committed_probe")
class CommittedProbe(SourceBase):
    """Counts to `count`; records what the state file held whenever `committed` is called."""

    params: ClassVar[tuple[ParamInfo, ...]] = (
        ParamInfo("count", "records to read", default="5"),
        ParamInfo("state", "the state file to look at", required=True),
    )
    TOLD: ClassVar[list[tuple[bytes, bytes | None]]] = []

    def __init__(self) -> None:
        super().__init__()
        self._n = 0

    def read(self, max_records: int) -> list[Record]:
        end = min(self._n + max_records, int(self.param("count")))
        records = [Record(value=b'{"g": "a", "v": %d}' % i) for i in range(self._n, end)]
        self._n = end
        return records

    def checkpoint(self) -> bytes:
        return b"%d" % self._n

    def restore(self, position: bytes) -> None:
        self._n = int(position)

    def committed(self, position: bytes) -> None:
        path = Path(self.param("state"))
        saved = None
        if path.exists():
            saved = base64.b64decode(json.loads(path.read_text())["sources"]["src"]["position"])
        self.TOLD.append((position, saved))


def _pipeline(tmp_path: Path, processors: str = "") -> Path:
    state = tmp_path / ".dataflare" / "p.state.json"
    path = tmp_path / "p.yaml"
    path.write_text(
        "batch_size: 2\n"
        f"sources:\n  - {{id: src, type: committed_probe, config: {{state: '{state}'}}}}\n"
        f"{processors}"
        "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
    )
    return path


def test_each_batch_position_is_told_after_the_state_file_saved_it(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "GROUP_COMMIT_SECONDS", 0.0)  # a commit per batch
    CommittedProbe.TOLD.clear()
    Executor(load_plan(_pipeline(tmp_path))).run()
    told = [position for position, _ in CommittedProbe.TOLD]
    assert told == [b"2", b"4", b"5"]  # once each: the final save repeats none
    saved = json.loads((tmp_path / ".dataflare" / "p.state.json").read_text())
    assert saved["sources"]["src"]["position"]
    for position, in_file in CommittedProbe.TOLD:
        assert in_file == position  # told once the state file holds it, not before


def test_batches_written_within_the_group_interval_are_committed_together(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(checkpoints, "GROUP_COMMIT_SECONDS", 3600.0)
    CommittedProbe.TOLD.clear()
    Executor(load_plan(_pipeline(tmp_path))).run()
    # Three batches within the interval: one commit, when the run ends; the output
    # holds every record and the state file the last position.
    assert CommittedProbe.TOLD == [(b"5", b"5")]
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 5


def test_an_aggregating_run_is_told_its_final_position_only(tmp_path):
    CommittedProbe.TOLD.clear()
    count = (
        "processors:\n  - {id: n, type: plugin, config: {plugin_type: aggregate, "
        "plugin_name: count_sum, params: {group_by: g, sum_field: v}}}\n"
    )
    Executor(load_plan(_pipeline(tmp_path, count))).run()
    assert [position for position, _ in CommittedProbe.TOLD] == [b"5"]
