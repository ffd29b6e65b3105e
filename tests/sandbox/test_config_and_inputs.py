# ruff: noqa: E501  (YAML fixtures read best on one line)
"""`limits` / `allow` validation with located errors, and hostile input files.

Input attacks (YAML bombs, a 1 GiB line, NUL bytes) need no guest: they are
contained by the config loader and the file sources.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from dataflare import StageFailed
from dataflare.errors import ConfigFileError
from dataflare.pipeline.config import load_config
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan
from dataflare.pipeline.stage_limits import DEFAULT_LIMITS, StageLimits
from dataflare.runtime.capabilities import DENY_ALL, Capabilities, DirGrant
from hypothesis import given
from hypothesis import strategies as st


def _direct(kind: object) -> list[str]:
    return ["jsonl"]


def _write(tmp_path: Path, stage_extra: str) -> Path:
    wasm = tmp_path / "p.wasm"
    wasm.write_bytes(b"\0asm")
    (tmp_path / "in.jsonl").write_text("{}\n")
    body = textwrap.indent(textwrap.dedent(stage_extra).strip("\n"), "    ")
    text = (
        "sources:\n  - {id: src, type: jsonl, config: {path: in.jsonl}}\n"
        "processors:\n  - id: w\n    type: plugin\n"
        "    config: {plugin_type: filter, plugin_source: wasm, plugin_path: p.wasm, "
        "params: {path: out/x.jsonl}}\n"
        f"{body}\n"
        "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
    )
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as info:
        load_config(path, direct_types=_direct)
    return info.value.problems


def test_defaults_apply_when_nothing_is_said(tmp_path):
    config = load_config(_write(tmp_path, ""), direct_types=_direct)
    stage = config.processors[0]
    assert (stage.limits, stage.allow) == (DEFAULT_LIMITS, DENY_ALL)
    assert StageLimits(256, 30_000, 10_000_000_000, 16 << 20) == DEFAULT_LIMITS
    # A WASM plugin's paths are guest paths: not rewritten to the host.
    assert stage.params["path"] == "out/x.jsonl"


def test_limits_and_allow_are_read(tmp_path):
    (tmp_path / "data").mkdir()
    path = _write(
        tmp_path,
        """
        limits: {memory_mb: 64, timeout_ms_per_batch: 500, fuel_per_record: null, max_record_bytes: 1024}
        allow:
          dirs: [{host: data, guest: /data, mode: rw}]
          env: [HOME]
          stdout: true
        """,
    )
    stage = load_config(path, direct_types=_direct).processors[0]
    assert stage.limits == StageLimits(64, 500, None, 1024)
    assert stage.allow == Capabilities(
        (DirGrant(tmp_path / "data", "/data", "rw"),), ("HOME",), True
    )
    runtime = stage.limits.runtime_limits()
    assert (runtime.memory_bytes, runtime.fuel_per_call, runtime.timeout) == (64 << 20, None, 0.5)
    assert not stage.limits.engine_config().fuel


def test_bad_limits_and_allow_are_located(tmp_path):
    path = _write(
        tmp_path,
        """
        limits: {memory_mb: 0, timeout_ms: 5, max_record_bytes: big, fuel_per_record: -1}
        allow:
          dirs: [{host: nowhere, guest: relative, mode: rwx}]
          env: [1BAD]
          stdout: yes please
          net: true
        """,
    )
    problems = [p.split(": ", 1)[1] for p in _problems(path)]
    at = {p.split(": ", 1)[0] for p in _problems(path)}
    assert all(str(path) in a for a in at)
    joined = "\n".join(problems)
    for expected in (
        "`limits.memory_mb`: expected a positive integer, got an integer 0",
        "unknown key 'timeout_ms'; expected one of: memory_mb, timeout_ms_per_batch",
        "`limits.max_record_bytes`: expected a positive integer, got a string 'big'",
        "`limits.fuel_per_record`: expected a positive integer, got an integer -1",
        "`host`: not a directory:",
        "`guest`: expected an absolute path, got 'relative'",
        "`mode`: expected ro or rw, got 'rwx'",
        "`allow.env`: expected a variable name (letters, digits, _), got '1BAD'",
        "`allow.stdout`: expected true or false, got 'yes please'",
        "unknown key 'net'; expected one of: dirs, env, stdout",
    ):
        assert expected in joined, expected


def test_memory_over_4_gib_is_refused(tmp_path):
    path = _write(tmp_path, "limits: {memory_mb: 8192}")
    assert any("at most 4096" in p for p in _problems(path))


@given(st.dictionaries(st.sampled_from(["memory_mb", "timeout_ms_per_batch", "max_record_bytes"]),
                       st.integers(min_value=-5, max_value=5000), max_size=3))  # fmt: skip
def test_any_integer_limits_either_load_or_fail_located(tmp_path_factory, limits):
    tmp = tmp_path_factory.mktemp("lim")
    path = _write(tmp, "limits: " + json.dumps(limits))
    try:
        stage = load_config(path, direct_types=_direct).processors[0]
    except ConfigFileError as exc:
        assert any(v <= 0 or (k == "memory_mb" and v > 4096) for k, v in limits.items())
        assert all(p.startswith(f"{path}:") for p in exc.problems)
    else:
        for key, value in limits.items():
            assert getattr(stage.limits, key) == value


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    problems = _problems(path)
    assert len(problems) == 1
    assert "expands to more than 100000 values (an alias bomb?" in problems[0]


def _run(tmp_path: Path, source: str) -> Executor:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"sources:\n  - {{id: src, type: jsonl, config: {source}}}\n"
        "processors:\n  - {id: f, type: plugin, on_error: dead_letter, dead_letter: dlq, "
        "config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: 1}}}\n"
        "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
        "  - {id: dlq, type: jsonl, config: {path: dlq.jsonl, format: record}}\n"
    )
    return Executor(load_plan(path))


def test_a_1_gib_line_stops_the_read_without_reading_it(tmp_path):
    big = tmp_path / "big.jsonl"
    with big.open("wb") as handle:
        handle.write(b'{"a": 1}\n{"a": "')
        handle.truncate(1 << 30)  # sparse: no disk used, a 1 GiB line of NULs
    with pytest.raises(StageFailed) as info:
        _run(tmp_path, "{path: big.jsonl}").run()
    assert "stage 'src' failed in read: serialization: " in str(info.value)
    assert "big.jsonl:2: line longer than " in str(info.value)
    assert "max_line_bytes=16777216" in str(info.value)


def test_nul_bytes_in_an_input_file_fail_only_their_records(tmp_path):
    """The jsonl source decodes every line: NUL-broken lines are its errors, per record."""
    (tmp_path / "nul.jsonl").write_bytes(b'{"a": 1}\n{"a"\x00: 1}\n\x00\x00\x00\n{"a": 1}\n')
    path = tmp_path / "p.yaml"
    path.write_text(
        "sources:\n  - {id: src, type: jsonl, on_error: dead_letter, dead_letter: dlq, "
        "config: {path: nul.jsonl}}\n"
        "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
        "  - {id: dlq, type: jsonl, config: {path: dlq.jsonl, format: record}}\n"
    )
    stats = Executor(load_plan(path)).run()
    assert (tmp_path / "out.jsonl").read_text().splitlines() == ['{"a": 1}', '{"a": 1}']
    letters = [json.loads(x) for x in (tmp_path / "dlq.jsonl").read_text().splitlines()]
    assert [x["metadata"]["dataflare.error.kind"] for x in letters] == ["serialization"] * 2
    assert [x["metadata"]["dataflare.error.stage"] for x in letters] == ["src"] * 2
    assert stats.stages["src"].errors == 2
