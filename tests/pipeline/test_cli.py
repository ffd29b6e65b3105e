# ruff: noqa: E501
"""`dataflare run`: dry run, summary, quiet, errors, stdout data, log tags, and Ctrl-C."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from dataflare.cli import main
from dataflare.cli.run_display import StageLogHandler

HERE = Path(__file__).resolve().parent


def test_dry_run_prints_the_plan_and_runs_nothing(write_yaml, tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text('{"status": "active"}\n')
    path = write_yaml(
        """
        sources:
          - {id: src, type: jsonl, config: {path: in.jsonl}}
        processors:
          - {id: user_filter, type: plugin, on_error: dead_letter, dead_letter: bad, config: {plugin_type: filter, plugin_name: json_filter, params: {field: status, value: active}}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
          - {id: bad, type: jsonl, config: {path: bad.jsonl, format: record}}
          - {id: pg, type: postgres, config: {connection: {host: db, password: hunter2}, params: {table: t}}}
        """
    )
    assert main(["run", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "user_filter: filter native:json_filter (json_filter" in out
    assert "on_error=dead_letter -> bad" in out
    assert "dead-letter sinks:" in out
    assert "password=***" in out and "hunter2" not in out
    assert not (tmp_path / "out.jsonl").exists()


def test_run_prints_a_summary_table(write_yaml, tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text('{"status": "active"}\n{"status": "gone"}\n')
    path = write_yaml(
        """
        sources:
          - {id: src, type: jsonl, config: {path: in.jsonl}}
        processors:
          - {id: user_filter, type: plugin, config: {plugin_type: filter, plugin_name: json_filter, params: {field: status, value: active}}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
        """
    )
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in out.splitlines()
        if line.count("│") == 7
    }
    assert rows["src"] == ["source", "", "2", "0", "0"]
    assert rows["user_filter"] == ["filter", "2", "1", "1", "0"]
    assert rows["out"] == ["sink", "1", "1", "0", "0"]
    assert "done: 2 records read" in out


def test_an_in_process_run_leaves_logging_as_it_was(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text('{"status": "active"}\n')
    path = write_yaml(
        """
        sources:
          - {id: src, type: jsonl, config: {path: in.jsonl}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
        """
    )
    logger = logging.getLogger("dataflare")
    before = (logger.level, logger.propagate, list(logger.handlers))
    assert main(["run", str(path), "-vv"]) == 0
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


def test_quiet_prints_nothing(write_yaml, tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources: [{id: src, type: jsonl, config: {path: in.jsonl}}]
        sinks: [{id: out, type: jsonl, config: {path: out.jsonl}}]
        """
    )
    assert main(["run", str(path), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert (tmp_path / "out.jsonl").read_text() == "{}\n"


def test_config_errors_exit_2_with_every_problem(write_yaml, capsys):
    path = write_yaml(
        """
        sources: [{id: src, type: jsnl}]
        sinks: [{id: out, typo: jsonl}]
        """
    )
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"dataflare: error: {path}: 3 problem(s):" in err
    assert f"{path}:1:27: sources entry 'src': unknown `type` 'jsnl'" in err
    assert f"{path}:2:19: sinks entry 'out': unknown key 'typo'" in err
    assert f"{path}:2:9: sinks entry 'out': missing `type`" in err


def test_stage_failure_exits_2_after_the_summary(write_yaml, capsys):
    path = write_yaml(
        """
        sources: [{id: nums, type: test_range, config: {count: 3}}]
        processors:
          - {id: picky, type: plugin, config: {plugin_type: filter, plugin_name: test_fail_on, params: {every: 2}}}
        sinks: [{id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}]
        """
    )
    assert main(["run", str(path)]) == 2
    captured = capsys.readouterr()
    assert "stage 'picky' failed on a record: processing: n=0 is a multiple of 2" in captured.err
    assert "picky" in captured.out


def test_stdout_sink_keeps_stdout_for_records(write_yaml, tmp_path, capfdbinary):
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    path = write_yaml(
        """
        sources: [{id: src, type: jsonl, config: {path: in.jsonl}}]
        sinks: [{id: out, type: stdout}]
        """
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dataflare", "run", str(path)], capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b'{"a": 1}\n{"a": 2}\n'
    assert b"done: 2 records read" in proc.stderr


def test_stdin_source(write_yaml):
    path = write_yaml(
        """
        sources: [{id: src, type: stdin, config: {key_field: id}}]
        processors:
          - {id: f, type: plugin, config: {plugin_type: filter, plugin_name: json_filter, params: {field: ok, value: "true"}}}
        sinks: [{id: out, type: stdout, config: {format: record}}]
        """
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dataflare", "run", "-q", str(path)],
        input=b'{"id": "x", "ok": true}\n\n{"id": "y", "ok": false}\n',
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.decode().splitlines()
    assert json.loads(line) == {
        "key": "x",
        "value": '{"id": "x", "ok": true}',
        "timestamp": None,
        "metadata": {},
    }


def test_plugin_log_lines_are_tagged_with_the_stage():
    stream = io.StringIO()
    handler = StageLogHandler(stream)
    logger = logging.getLogger("dataflare.plugin.json_filter")
    logger.addHandler(handler)
    try:
        logger.warning("odd record %d", 7, extra={"stage": "user_filter"})
        logging.getLogger("dataflare.pipeline").addHandler(handler)
        logging.getLogger("dataflare.pipeline").warning("no stage here")
    finally:
        logger.removeHandler(handler)
        logging.getLogger("dataflare.pipeline").removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "warning: [user_filter] dataflare.plugin.json_filter: odd record 7",
        "warning: dataflare.pipeline: no stage here",
    ]


def test_ctrl_c_closes_every_plugin_and_leaves_sinks_consistent(write_yaml, tmp_path):
    path = write_yaml(
        """
        batch_size: 10
        sources:
          - {id: nums, type: test_range, config: {count: 100000, delay_ms: 20, closed_path: closed.txt, tag: src}}
        processors:
          - {id: sq, type: plugin, config: {plugin_type: transform, plugin_name: test_square, params: {closed_path: closed.txt, tag: sq}}}
          - {id: even, type: plugin, config: {plugin_type: filter, plugin_name: test_even, params: {closed_path: closed.txt, tag: even}}}
        sinks:
          - {id: file, type: jsonl, config: {path: out.jsonl}}
          - {id: db, type: sqlite, config: {path: out.db, table: nums}}
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log, params: {closed_path: closed.txt, tag: log}}}
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent)]))
    code = (
        "import sys, dfpipe_plugins; from dataflare.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "run", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        rows = 0
        while rows < 30:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the pipeline never wrote 30 rows"
            time.sleep(0.05)
            if (tmp_path / "out.db").exists():
                try:
                    with sqlite3.connect(tmp_path / "out.db") as db:
                        rows = db.execute("SELECT count(*) FROM nums").fetchone()[0]
                except sqlite3.OperationalError:
                    rows = 0
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()
    assert b"interrupted: finishing the current batch" in err
    assert b"interrupted:" in out  # the summary says how the run ended
    assert sorted((tmp_path / "closed.txt").read_text().split()) == ["even", "log", "sq", "src"]
    text = (tmp_path / "out.jsonl").read_text()
    assert text.endswith("\n")
    written = [json.loads(line) for line in text.splitlines()]
    with sqlite3.connect(tmp_path / "out.db") as db:
        stored = [n for (n,) in db.execute("SELECT n FROM nums ORDER BY rowid")]
    # Whole batches only (5 even numbers per batch of 10), identical in both sinks.
    assert [r["n"] for r in written] == stored == list(range(0, 2 * len(stored), 2))
    assert len(stored) % 5 == 0 and len(stored) >= 15


def test_test_command_reports_a_too_deep_input_line(tmp_path, capsys):
    # `dataflare test` reads record envelopes with json: a deep line used to crash it.
    bad = tmp_path / "deep.jsonl"
    bad.write_text('{"value": "{}"}\n{"value": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
    assert main(["test", "mask_email", "--records", "-i", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: not a record: the line is nested too deeply to parse" in err
