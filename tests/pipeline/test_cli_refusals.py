# ruff: noqa: E501
"""`python -m dataflare` refuses bad input with one located line, never a traceback.

Each case runs the real command line in a subprocess, as a user would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SINK = "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
SOURCE = "sources:\n  - {id: src, type: jsonl, config: {path: in.jsonl}}\n"


def dataflare(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The timeout is a guard against the loop this file tests for, not a measurement.
    return subprocess.run(
        [sys.executable, "-m", "dataflare", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT / "host"), "PATH": "/usr/bin:/bin"},
        timeout=300,
        check=False,
    )


def refused(tmp_path: Path, text: str, *extra: str) -> str:
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    (tmp_path / "x.yaml").write_text(text)
    proc = dataflare(tmp_path, "run", "x.yaml", *extra)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("sources: " + "[" * 500 + "]" * 500 + "\n", "x.yaml:1:73"),
        ("sources: " + "{a: " * 500 + "1" + "}" * 500 + "\n", "x.yaml:1:"),
        ("".join("  " * i + "a:\n" for i in range(500)), "x.yaml:65:"),
    ],
    ids=["flow-seq", "flow-map", "block"],
)
def test_deep_yaml(tmp_path, text, where):
    err = refused(tmp_path, text)
    assert f"  - {where}" in err
    assert "pipeline: nested more than 64 levels deep" in err


def test_deep_json_in_a_jsonl_source(tmp_path):
    text = SOURCE.replace("in.jsonl}", "in.jsonl, format: record}") + SINK
    (tmp_path / "x.yaml").write_text(text)
    (tmp_path / "in.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    proc = dataflare(tmp_path, "run", "--quiet", "x.yaml")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "stage 'src' failed on a record: serialization: " in proc.stderr
    assert "in.jsonl:1: the value is nested too deeply to parse" in proc.stderr
    assert "on_error" in proc.stderr


def test_deep_json_given_to_dataflare_test(tmp_path):
    (tmp_path / "deep.jsonl").write_text('{"value": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    proc = dataflare(
        tmp_path, "test", "transform/mask_email", "-p", "field=email", "--records", "-i", "deep.jsonl"
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "deep.jsonl:1: not a record: the line is nested too deeply to parse" in proc.stderr


@pytest.mark.parametrize("mode", ["append", "overwrite"])
def test_a_sink_on_its_source_file_is_refused_before_anything_runs(tmp_path, mode):
    (tmp_path / "link.jsonl").symlink_to("in.jsonl")
    err = refused(
        tmp_path,
        SOURCE
        + f"sinks:\n  - {{id: out, type: jsonl, config: {{path: link.jsonl, mode: {mode}}}}}\n",
    )
    assert "x.yaml:4:37: sinks entry 'out': `path` " in err
    assert "the same file that source 'src' reads (at x.yaml:2:" in err
    assert (tmp_path / "in.jsonl").read_text() == '{"a": 1}\n{"a": 2}\n'


def test_a_batch_size_past_u32_is_refused(tmp_path):
    err = refused(tmp_path, "batch_size: 4294967296\n" + SOURCE + SINK)
    assert (
        "x.yaml:1:13: pipeline: `batch_size`: expected a positive integer of at most 4294967295, got an integer 4294967296"
        in err
    )


def test_a_limit_past_u64_is_refused(tmp_path):
    (tmp_path / "p.wasm").write_bytes(b"\0asm")
    text = (
        SOURCE
        + "processors:\n  - {id: w, type: plugin, limits: {fuel_per_record: 18446744073709551621}, config: {plugin_type: filter, plugin_source: wasm, plugin_path: p.wasm}}\n"
        + SINK
    )
    err = refused(tmp_path, text)
    assert (
        "x.yaml:4:53: processors entry 'w': `limits.fuel_per_record`: expected a positive integer of at most"
        in err
    )
