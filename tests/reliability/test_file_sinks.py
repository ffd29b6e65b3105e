"""File sinks across reruns: a resumed run continues the file exactly where the checkpoint was.

"Junk" appended to an output file stands for what a killed run wrote after
its last commit: a resumed run must cut it off, keep everything before it,
and append the replay.
"""

from __future__ import annotations

import csv
import errno
import json
import logging
import os
from pathlib import Path

import pytest
from dataflare import StageFailed
from dataflare.cli import main
from dataflare.errors import PipelineError
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan

JUNK = b'{"n": -1, "from": "a batch written after the last commit"}\n'


def _input(tmp: Path, start: int, stop: int, *, bad_every: int = 0) -> None:
    """Append records start..stop-1; with `bad_every`, every such record has a non-string email."""
    with (tmp / "in.jsonl").open("a") as handle:
        for n in range(start, stop):
            bad = bad_every and n % bad_every == 0
            handle.write(json.dumps({"n": n, "email": n if bad else f"u{n}@x.org"}) + "\n")


def _pipeline(tmp: Path, sinks: str, *, processors: str = "", resume: str = "true") -> Path:
    path = tmp / "p.yaml"
    path.write_text(
        "batch_size: 3\n"
        f"sources:\n  - {{id: src, type: jsonl, config: {{path: in.jsonl, resume: {resume}}}}}\n"
        + (f"processors:\n{processors}" if processors else "")
        + f"sinks:\n{sinks}"
    )
    return path


def _run(path: Path) -> None:
    Executor(load_plan(path)).run()


def _numbers(path: Path) -> list[int]:
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            return [int(row["n"]) for row in csv.DictReader(handle)]
    lines = path.read_text().splitlines()
    docs = [json.loads(line) for line in lines if line.strip()]
    return [json.loads(d["value"])["n"] if "value" in d else d["n"] for d in docs]


def _state(tmp: Path) -> dict[str, object]:
    return json.loads((tmp / ".dataflare" / "p.state.json").read_text())


SINKS = {
    "jsonl-value": "  - {id: out, type: jsonl, config: {path: out.jsonl}}\n",
    "jsonl-record": "  - {id: out, type: jsonl, config: {path: out.jsonl, format: record}}\n",
    "csv": '  - {id: out, type: csv, config: {path: out.csv, columns: "n,email"}}\n',
    "csv-inferred": "  - {id: out, type: csv, config: {path: out.csv}}\n",
}


@pytest.mark.parametrize("kind", sorted(SINKS))
def test_a_resumed_overwrite_sink_keeps_what_the_checkpoint_covered(tmp_path, kind):
    _input(tmp_path, 0, 10)
    path = _pipeline(tmp_path, SINKS[kind])
    _run(path)
    plugin = kind.split("-")[0]
    out = tmp_path / f"out.{plugin}"
    with out.open("ab") as handle:
        handle.write(JUNK)
    _input(tmp_path, 10, 15)
    _run(path)
    assert _numbers(out) == list(range(15))
    if plugin == "csv":
        assert out.read_text().count("n,email") == 1
    size = out.stat().st_size
    assert _state(tmp_path)["sinks"] == {"out": {"plugin": f"native:{plugin}", "size": size}}


def test_a_fresh_run_still_overwrites(tmp_path):
    _input(tmp_path, 0, 4)
    (tmp_path / "out.jsonl").write_bytes(JUNK * 3)
    _run(_pipeline(tmp_path, SINKS["jsonl-value"]))
    assert _numbers(tmp_path / "out.jsonl") == [0, 1, 2, 3]


def test_append_mode_keeps_older_content_and_cuts_the_uncommitted_tail(tmp_path):
    _input(tmp_path, 0, 4)
    (tmp_path / "out.jsonl").write_text('{"n": 100}\n')
    sink = "  - {id: out, type: jsonl, config: {path: out.jsonl, mode: append}}\n"
    path = _pipeline(tmp_path, sink)
    _run(path)
    with (tmp_path / "out.jsonl").open("ab") as handle:
        handle.write(JUNK)
    _input(tmp_path, 4, 6)
    _run(path)
    assert _numbers(tmp_path / "out.jsonl") == [100, 0, 1, 2, 3, 4, 5]


def test_a_file_shorter_than_its_committed_size_stops_the_run(tmp_path):
    _input(tmp_path, 0, 6)
    path = _pipeline(tmp_path, SINKS["jsonl-value"])
    _run(path)
    size = (tmp_path / "out.jsonl").stat().st_size
    (tmp_path / "out.jsonl").write_text('{"n": 0}\n')
    _input(tmp_path, 6, 7)
    with pytest.raises(StageFailed, match=rf"out.jsonl is only 9 bytes, but the checkpoint says "
                       rf"{size} bytes of it were committed"):  # fmt: skip
        _run(path)
    (tmp_path / "out.jsonl").unlink()
    with pytest.raises(StageFailed, match=r"out.jsonl is missing, but the checkpoint says"):
        _run(path)


def test_a_sink_added_since_the_last_run_follows_its_mode(tmp_path, caplog):
    _input(tmp_path, 0, 3)
    _run(_pipeline(tmp_path, SINKS["jsonl-value"]))
    (tmp_path / "new.jsonl").write_bytes(JUNK)
    _input(tmp_path, 3, 5)
    sinks = SINKS["jsonl-value"] + "  - {id: new, type: jsonl, config: {path: new.jsonl}}\n"
    with caplog.at_level(logging.INFO, logger="dataflare.pipeline"):
        _run(_pipeline(tmp_path, sinks))
    assert _numbers(tmp_path / "new.jsonl") == [3, 4]
    assert _numbers(tmp_path / "out.jsonl") == [0, 1, 2, 3, 4]
    assert "no committed size saved for this sink" in caplog.text


def test_a_version_1_state_file_appends_to_the_file_as_it_is(tmp_path, caplog):
    _input(tmp_path, 0, 5)
    path = _pipeline(tmp_path, SINKS["jsonl-value"])
    _run(path)
    state = _state(tmp_path)
    del state["sinks"]
    state["version"] = 1
    (tmp_path / ".dataflare" / "p.state.json").write_text(json.dumps(state))
    _input(tmp_path, 5, 7)
    with caplog.at_level(logging.WARNING, logger="dataflare.pipeline"):
        _run(path)
    assert _numbers(tmp_path / "out.jsonl") == list(range(7))
    assert "predates saved sink sizes" in caplog.text
    assert _state(tmp_path)["version"] == 2


def test_dead_letter_files_are_exactly_once_too(tmp_path):
    _input(tmp_path, 0, 10, bad_every=4)
    processors = (
        "  - {id: mask, type: plugin, on_error: dead_letter, dead_letter: rejects, config: "
        "{plugin_type: transform, plugin_name: mask_email}}\n"
    )
    sinks = SINKS["jsonl-value"] + (
        "  - {id: rejects, type: jsonl, config: {path: rejects.jsonl, format: record}}\n"
    )
    path = _pipeline(tmp_path, sinks, processors=processors)
    _run(path)
    for name in ("out.jsonl", "rejects.jsonl"):
        with (tmp_path / name).open("ab") as handle:
            handle.write(JUNK)
    _input(tmp_path, 10, 14, bad_every=4)
    _run(path)
    assert _numbers(tmp_path / "rejects.jsonl") == [0, 4, 8, 12]
    assert _numbers(tmp_path / "out.jsonl") == [n for n in range(14) if n % 4]
    assert set(_state(tmp_path)["sinks"]) == {"out", "rejects"}  # type: ignore[arg-type]


def test_an_aggregate_pipeline_cuts_back_to_the_end_of_the_last_complete_run(tmp_path):
    _input(tmp_path, 0, 4)
    processors = (
        "  - {id: agg, type: plugin, config: {plugin_type: aggregate, plugin_name: count_sum, "
        "params: {group_by: email, sum_field: n}}}\n"
    )
    path = _pipeline(tmp_path, SINKS["jsonl-value"], processors=processors)
    _run(path)
    first = (tmp_path / "out.jsonl").read_bytes()
    with (tmp_path / "out.jsonl").open("ab") as handle:
        handle.write(JUNK)  # as if a crashed run had emitted this
    _input(tmp_path, 4, 5)
    _run(path)
    lines = (tmp_path / "out.jsonl").read_bytes()
    assert lines.startswith(first) and JUNK not in lines
    assert len(lines.splitlines()) == 5


def test_a_pipeline_that_cannot_resume_writes_no_state_file(tmp_path):
    _input(tmp_path, 0, 10)
    _run(_pipeline(tmp_path, SINKS["jsonl-value"], resume="false"))
    assert not (tmp_path / ".dataflare").exists()


def test_an_unwritable_state_directory_stops_before_anything_is_written(
    tmp_path, capsys, monkeypatch
):
    _input(tmp_path, 0, 5)
    path = _pipeline(tmp_path, SINKS["jsonl-value"])

    def read_only(**kwargs: object) -> tuple[int, str]:
        # chmod cannot make a directory read-only for root, so refuse as the kernel would
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(kwargs["dir"]))

    monkeypatch.setattr("dataflare.pipeline.state.tempfile.mkstemp", read_only)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write the checkpoint file {tmp_path / '.dataflare' / 'p.state.json'}" in err
    assert "Traceback" not in err
    assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_a_full_disk_keeps_the_previous_state_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    _input(tmp_path, 0, 5)
    path = _pipeline(tmp_path, SINKS["jsonl-value"])
    _run(path)
    before = _state(tmp_path)
    _input(tmp_path, 5, 12)

    real_fsync = os.fsync

    def full(fd: int) -> None:
        # only the state file's disk is full; the sinks' fsync must still work
        if ".state-" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    state = tmp_path / ".dataflare" / "p.state.json"
    with pytest.raises(PipelineError, match=rf"cannot write the checkpoint file {state}: "
                       "No space left on device"):  # fmt: skip
        _run(path)
    monkeypatch.undo()
    assert _state(tmp_path) == before
    assert os.listdir(tmp_path / ".dataflare") == ["p.state.json"]
    _run(path)  # the rerun cuts what the failed run wrote after its checkpoint
    assert _numbers(tmp_path / "out.jsonl") == list(range(12))
