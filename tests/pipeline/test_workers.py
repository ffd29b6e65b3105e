# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""`workers: N` on WASM filter/transform stages: validation, order, isolation, policies."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import dfpipe_plugins
import pytest
from dataflare import StageFailed
from dataflare.errors import ConfigFileError
from dataflare.model import PluginKind
from dataflare.pipeline import load_plan, run_pipeline
from dataflare.runtime.pool import PooledPlugin, default_size
from support.guests import built_guest


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as info:
        load_plan(path, wasm_loader=_never)
    return info.value.problems


def _never(*args: object) -> object:
    raise AssertionError("no plugin may be loaded for an invalid file")


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


TAIL = """
sinks:
  - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
"""
TAIL8 = "sinks:\n          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}\n"
"""`TAIL` continuing an indented triple-quoted file (write_yaml dedents)."""


@pytest.fixture
def fake_wasm(tmp_path: Path) -> Path:
    """A file where a WASM path must point; the test loaders never read it."""
    path = tmp_path / "p.wasm"
    path.write_bytes(b"\0asm")
    return path


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0", "an integer 0"),
        ("65", "an integer 65"),
        ("many", "a string 'many'"),
        ("true", "a boolean True"),
        ("1.5", "a number 1.5"),
    ],
)
def test_a_bad_workers_value_is_located(write_yaml, fake_wasm, value, shown):
    path = write_yaml(
        "sources:\n  - {id: nums, type: test_range, config: {count: 1}}\nprocessors:\n"
        f"  - {{id: p, type: plugin, workers: {value}, config: {{plugin_type: filter, plugin_source: wasm, plugin_path: p.wasm}}}}\n"
        + TAIL
    )
    col = path.read_text().splitlines()[3].index(f"workers: {value}") + len("workers: ") + 1
    [message] = problems_of(path)
    assert message == (
        f"{path}:4:{col}: processors entry 'p': `workers`: expected `auto` or an integer from 1 to 64, got {shown}"
    )


def test_workers_on_a_native_stage_is_rejected(write_yaml):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 1}}
        processors:
          - id: even
            type: plugin
            workers: 2
            config: {plugin_type: filter, plugin_name: test_even}
        """
        + TAIL8
    )
    assert problems_of(path) == [
        f"{path}:6:5: processors entry 'even': `workers` applies to WASM filter and transform "
        "stages only (`plugin_source: wasm`); native plugins run on the pipeline's thread"
    ]


@pytest.mark.parametrize(
    ("section", "kind", "why"),
    [
        ("processors", "aggregate", "an aggregate folds every record into one accumulator"),
        ("sources", "source", "a source has one read position"),
        ("sinks", "sink", "a sink's writes must stay in one order and one transaction"),
    ],
)
def test_workers_on_an_unsafe_kind_is_rejected(write_yaml, fake_wasm, section, kind, why):
    entry = f"  - {{id: w, type: plugin, workers: auto, config: {{plugin_type: {kind}, plugin_source: wasm, plugin_path: p.wasm}}}}\n"
    parts = {
        "sources": "  - {id: nums, type: test_range, config: {count: 1}}\n",
        "processors": "",
        "sinks": "  - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}\n",
    }
    parts[section] += entry
    text = "".join(f"{name}:\n{body}" for name, body in parts.items() if body)
    path = write_yaml(text)
    line = text.splitlines().index(entry.rstrip("\n")) + 1
    assert problems_of(path) == [
        f"{path}:{line}:27: {section} entry 'w': `workers` applies to filter and transform "
        f"stages only, not to {kind} stages: {why}, which cannot be split across instances"
    ]


def _trap_loader(made: list[object]):
    """A `WasmLoader` standing in for the WASM one: `test_trap` members, counted."""

    def load(path: Path, kind: PluginKind, name: str | None, stage: str) -> object:
        assert kind is PluginKind.TRANSFORM and stage == "trappy"
        member = dfpipe_plugins.Trap()
        made.append(member)
        return member

    return load


def test_a_pooled_stage_keeps_order_and_isolates_the_poison_record(write_yaml, tmp_path, fake_wasm):
    path = write_yaml(
        """
        batch_size: 100
        sources:
          - {id: nums, type: test_range, config: {count: 250}}
        processors:
          - {id: trappy, type: plugin, workers: 3, on_error: dead_letter, dead_letter: dlq, config: {plugin_type: transform, plugin_source: wasm, plugin_path: p.wasm, params: {at: 137}}}
        sinks:
          - {id: log, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
          - {id: dlq, type: jsonl, config: {path: dlq.jsonl, format: record}}
        """
    )
    made: list[object] = []
    plan = load_plan(path, wasm_loader=_trap_loader(made))
    assert isinstance(plan.processors[0].plugin, PooledPlugin)
    assert "3 workers" in plan.describe()
    plan.close()
    made.clear()
    stats = run_pipeline(path, wasm_loader=_trap_loader(made))
    assert len(made) == 3  # one configured member per worker
    received = [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED]
    assert received == [n for n in range(250) if n != 137]
    letters = lines(tmp_path / "dlq.jsonl")
    assert [json.loads(str(x["value"]))["n"] for x in letters] == [137]
    assert letters[0]["metadata"]["dataflare.error.kind"] == "trap"  # type: ignore[index]
    assert stats.stages["trappy"].errors == 1
    assert stats.stages["trappy"].records_out == 249


def test_a_pooled_stage_with_on_error_fail_stops_the_run(
    write_yaml, fake_wasm, tmp_path, monkeypatch
):
    path = write_yaml(
        """
        batch_size: 64
        sources:
          - {id: nums, type: test_range, config: {count: 100}}
        processors:
          - {id: trappy, type: plugin, workers: 2, config: {plugin_type: transform, plugin_source: wasm, plugin_path: p.wasm, params: {at: 70, closed_path: closed.txt, tag: member}}}
        """
        + TAIL8
    )
    monkeypatch.chdir(tmp_path)
    made: list[object] = []
    with pytest.raises(
        StageFailed, match="stage 'trappy' failed on a record: trap: wasm trap: unreachable"
    ):
        run_pipeline(path, wasm_loader=_trap_loader(made))
    # the first batch went through whole; the second stopped before reaching the sink
    assert [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED] == list(range(64))
    assert (tmp_path / "closed.txt").read_text() == "member\nmember\n"  # every member closed


def test_members_really_run_on_several_threads(write_yaml, fake_wasm):
    threads: set[int] = set()
    barrier = threading.Barrier(2, timeout=10)

    class Recording(dfpipe_plugins.Trap):
        def transform_batch(self, records):  # type: ignore[no-untyped-def]
            threads.add(threading.get_ident())
            barrier.wait()  # both members must be in a call at once
            return super().transform_batch(records)

    def load(*args: object) -> object:
        return Recording()

    path = write_yaml(
        """
        batch_size: 128
        sources:
          - {id: nums, type: test_range, config: {count: 128}}
        processors:
          - {id: trappy, type: plugin, workers: 2, config: {plugin_type: transform, plugin_source: wasm, plugin_path: p.wasm, params: {at: -1}}}
        """
        + TAIL8
    )
    run_pipeline(path, wasm_loader=load)
    assert len(threads) == 2
    assert [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED] == list(range(128))


def test_auto_is_the_number_of_cores(write_yaml, fake_wasm):
    path = write_yaml(
        """
        sources:
          - {id: nums, type: test_range, config: {count: 1}}
        processors:
          - {id: trappy, type: plugin, workers: auto, config: {plugin_type: transform, plugin_source: wasm, plugin_path: p.wasm}}
        """
        + TAIL8
    )
    plan = load_plan(path, wasm_loader=_trap_loader([]))
    try:
        assert plan.processors[0].config.workers == default_size()
    finally:
        plan.close()


@pytest.mark.guests
def test_rust_guest_pooled_matches_single_instance(write_yaml, tmp_path):
    """The real WASM loader: same output and dead letters with 2 workers as with 1."""
    shutil.copyfile(built_guest("rust", "mask_email"), tmp_path / "mask.wasm")
    rows = []
    for i in range(700):
        email: object = f"user{i}@example.com" if i % 97 else i  # a non-string fails the record
        rows.append(json.dumps({"id": i, "email": email}))
    (tmp_path / "in.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    outputs = []
    for workers in (1, 2):
        path = write_yaml(
            f"""
            batch_size: 300
            sources:
              - {{id: in, type: jsonl, config: {{path: in.jsonl}}}}
            processors:
              - {{id: mask, type: plugin, workers: {workers}, on_error: dead_letter, dead_letter: dlq, limits: {{memory_mb: 64}}, config: {{plugin_type: transform, plugin_source: wasm, plugin_path: mask.wasm, params: {{field: email}}}}}}
            sinks:
              - {{id: out, type: jsonl, config: {{path: out{workers}.jsonl}}}}
              - {{id: dlq, type: jsonl, config: {{path: dlq{workers}.jsonl, format: record}}}}
            """,
            name=f"p{workers}.yaml",
        )
        stats = run_pipeline(path)
        assert stats.stages["mask"].errors == 8
        outputs.append(
            (
                (tmp_path / f"out{workers}.jsonl").read_text(),
                (tmp_path / f"dlq{workers}.jsonl").read_text(),
            )
        )
    assert outputs[0] == outputs[1]
    out = [json.loads(x)["email"] for x in outputs[1][0].splitlines()]
    assert out[:2] == ["u***@example.com", "u***@example.com"]
    assert len(out) == 692
    assert [json.loads(json.loads(x)["value"])["id"] for x in outputs[1][1].splitlines()] == list(
        range(0, 700, 97)
    )
