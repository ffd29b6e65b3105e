"""Every printing command stops quietly when its reader has gone (`dataflare ... | head`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dataflare.cli import BROKEN_PIPE_EXIT

ROOT = Path(__file__).resolve().parents[2]


def closed_pipe_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdout a pipe whose reader is already closed: the first write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # before the child starts, so its first write always gets EPIPE
    try:
        return subprocess.run(
            [sys.executable, "-m", "dataflare", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT / "host")},
            timeout=300,  # a guard against a hang, not a measurement
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", "transform/mask_email"],
        ["inspect", "mask_email", "--json"],
        ["test", "mask_email", "-i", "in.jsonl"],
        ["test", "source/jsonl", "-p", "path=in.jsonl"],
        ["check", "missing.wasm", "--format", "json"],
        ["check", "missing.wasm"],
    ],
    ids=lambda args: " ".join(args),
)
def test_a_closed_stdout_gives_no_traceback(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "in.jsonl").write_text("".join(f'{{"email": "u{i}@x.io"}}\n' for i in range(500)))
    proc = closed_pipe_run(tmp_path, *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "BrokenPipe" not in proc.stderr and "Broken pipe" not in proc.stderr, proc.stderr
    assert proc.returncode == BROKEN_PIPE_EXIT, proc.stderr


def test_run_reports_a_closed_stdout_sink_in_one_line(tmp_path: Path) -> None:
    # The stdout sink is a pipeline stage: records it could not deliver are a stage
    # failure, reported as one (exit 2), but without a traceback.
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n' * 500)
    (tmp_path / "pipe.yaml").write_text(
        "sources: [{id: src, type: jsonl, config: {path: in.jsonl}}]\n"
        "sinks: [{id: out, type: stdout}]\n"
    )
    proc = closed_pipe_run(tmp_path, "run", "--quiet", "pipe.yaml")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2
    assert proc.stderr.startswith("dataflare: error: stage 'out' failed"), proc.stderr


def test_head_sees_the_first_line_only(tmp_path: Path) -> None:
    # The shell form from the issue, for a reader that closes after one line.
    (tmp_path / "in.jsonl").write_text("".join(f'{{"email": "u{i}@x.io"}}\n' for i in range(3000)))
    command = f"{sys.executable} -m dataflare test mask_email -i in.jsonl | head -1"
    proc = subprocess.run(
        ["sh", "-c", command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "host")},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.count("\n") == 1 and '"line": 1' in proc.stdout
