"""The executor on Arrow batches: columnar and per-record plugins mixed, bisection on
zero-copy slices, PENDING sources, dead letters from a columnar stage, batch contracts."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import columnar_plugins
import pytest
from columnar_plugins import ColEven, ColPending, ColSink, ColTrap
from dataflare.errors import StageFailed
from dataflare.pipeline import META_KIND, META_MESSAGE, META_STAGE, load_plan, run_pipeline
from dataflare.pipeline.executor import Executor

assert columnar_plugins  # registers the test_col_* plugins


@pytest.fixture(autouse=True)
def _fresh() -> None:
    ColEven.CALLS.clear()
    ColTrap.BUFFERS.clear()
    ColSink.BATCHES.clear()
    ColPending.ANSWERS.clear()


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_input(tmp_path: Path, count: int) -> None:
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"n": i}) + "\n" for i in range(count)))


def pipeline(tmp_path: Path, processors: str, *, batch_size: int = 4) -> str:
    return f"""
        batch_size: {batch_size}
        sources:
          - {{id: in, type: jsonl, config: {{path: in.jsonl}}}}
        processors:
{processors}
        sinks:
          - {{id: out, type: jsonl, config: {{path: out.jsonl}}}}
    """


MIXED = """
          - {id: even, type: plugin, config: {plugin_type: filter, plugin_name: test_col_even}}
          - {id: sq, type: plugin, config: {plugin_type: transform, plugin_name: test_square}}
          - {id: sq2, type: plugin, config: {plugin_type: transform, plugin_name: test_col_square}}
"""
PER_RECORD = """
          - {id: even, type: plugin, config: {plugin_type: filter, plugin_name: test_even}}
          - {id: sq, type: plugin, config: {plugin_type: transform, plugin_name: test_square}}
          - {id: sq2, type: plugin, config: {plugin_type: transform, plugin_name: test_square}}
"""


def test_columnar_and_per_record_stages_mix_and_agree(tmp_path, write_yaml):
    write_input(tmp_path, 23)
    mixed = run_pipeline(write_yaml(pipeline(tmp_path, MIXED)))
    got = lines(tmp_path / "out.jsonl")
    assert ColEven.CALLS == [4, 4, 4, 4, 4, 3]  # whole batches, not records
    run_pipeline(write_yaml(pipeline(tmp_path, PER_RECORD)))
    assert got == lines(tmp_path / "out.jsonl")
    assert got == [{"n": n, "sq": n * n} for n in range(0, 23, 2)]
    assert mixed.stages["even"].dropped == 11
    assert mixed.stages["sq2"].records_out == 12


def test_a_trapping_columnar_batch_is_bisected_on_zero_copy_slices(tmp_path, write_yaml):
    write_input(tmp_path, 8)
    stats = run_pipeline(
        write_yaml(
            pipeline(
                tmp_path,
                "          - {id: trap, type: plugin, on_error: skip,"
                " config: {plugin_type: filter, plugin_name: test_col_trap, params: {at: '5'}}}",
                batch_size=8,
            )
        )
    )
    assert [d["n"] for d in lines(tmp_path / "out.jsonl")] == [0, 1, 2, 3, 4, 6, 7]
    assert stats.stages["trap"].errors == 1
    assert stats.stages["trap"].traps == 4  # 8, 4 (4..7), 2 (4, 5), 1 (5)
    # every retry saw the first call's value bytes: slices, never copies
    assert len(set(ColTrap.BUFFERS)) == 1


def test_dead_letters_from_a_columnar_stage(tmp_path, write_yaml):
    write_input(tmp_path, 10)
    stats = run_pipeline(
        write_yaml(
            """
            batch_size: 4
            sources:
              - {id: in, type: jsonl, config: {path: in.jsonl}}
            processors:
              - id: even
                type: plugin
                on_error: dead_letter
                dead_letter: dlq
                config: {plugin_type: filter, plugin_name: test_col_even,
                          params: {fail_every: '3'}}
            sinks:
              - {id: out, type: jsonl, config: {path: out.jsonl}}
              - {id: dlq, type: jsonl, config: {path: dlq.jsonl, format: record}}
            """
        )
    )
    assert [d["n"] for d in lines(tmp_path / "out.jsonl")] == [2, 4, 8]
    letters = lines(tmp_path / "dlq.jsonl")
    assert [json.loads(letter["value"])["n"] for letter in letters] == [0, 3, 6, 9]
    assert letters[1]["metadata"] == {
        META_STAGE: "even",
        META_KIND: "processing",
        META_MESSAGE: "n=3 fails",
    }
    assert stats.stages["even"].errors == 4
    assert stats.stages["dlq"].records_out == 4


def test_a_columnar_sink_gets_batches_and_fails_rows(tmp_path, write_yaml):
    write_input(tmp_path, 6)
    stats = run_pipeline(
        write_yaml(
            """
            batch_size: 4
            sources:
              - {id: in, type: jsonl, config: {path: in.jsonl}}
            sinks:
              - {id: col, type: test_col_sink, on_error: skip, config: {reject: '"n": 4'}}
            """
        )
    )
    assert [b.num_rows for b in ColSink.BATCHES] == [4, 2]
    assert stats.stages["col"].records_out == 5
    assert stats.stages["col"].errors == 1


def test_a_pending_source_is_asked_again_until_it_ends(write_yaml):
    stats = run_pipeline(
        write_yaml(
            """
            batch_size: 4
            sources:
              - {id: in, type: test_col_pending, config: {count: '10', pending: '2'}}
            sinks:
              - {id: out, type: test_col_sink}
            """
        )
    )
    assert sum(b.num_rows for b in ColSink.BATCHES) == 10
    assert stats.stages["in"].records_out == 10
    assert ColPending.ANSWERS == ["pending", "pending", "batch"] * 3 + ["end"]
    assert not stats.interrupted


def test_a_stop_request_ends_a_source_that_stays_pending(write_yaml):
    plan = load_plan(
        write_yaml(
            """
            sources:
              - {id: in, type: test_col_forever}
            sinks:
              - {id: out, type: test_col_sink}
            """
        )
    )
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    started = time.monotonic()
    stats = Executor(plan, stop=stop).run()
    timer.join()
    assert stats.interrupted
    assert time.monotonic() - started < 5  # bounded back-off: the stop is seen soon


def test_a_columnar_filter_with_a_short_keep_breaks_the_contract(tmp_path, write_yaml, monkeypatch):
    write_input(tmp_path, 3)
    monkeypatch.setattr(
        ColEven,
        "filter_columns",
        lambda self, batch: columnar_plugins.FilterResult(columnar_plugins.pa.array([True])),
    )
    with pytest.raises(StageFailed, match=r"broke the batch contract.*1 outcomes for a batch of 3"):
        run_pipeline(
            write_yaml(
                pipeline(
                    tmp_path,
                    "          - {id: even, type: plugin,"
                    " config: {plugin_type: filter, plugin_name: test_col_even}}",
                )
            )
        )


def test_an_error_for_a_row_outside_the_batch_breaks_the_contract(
    tmp_path, write_yaml, monkeypatch
):
    write_input(tmp_path, 3)
    monkeypatch.setattr(
        ColEven,
        "filter_columns",
        lambda self, batch: columnar_plugins.FilterResult(
            columnar_plugins.pa.array([True] * batch.num_rows),
            {7: columnar_plugins.ProcessingError("no such row")},
        ),
    )
    with pytest.raises(StageFailed, match=r"broke the batch contract.*outside 0\.\.2"):
        run_pipeline(
            write_yaml(
                pipeline(
                    tmp_path,
                    "          - {id: even, type: plugin,"
                    " config: {plugin_type: filter, plugin_name: test_col_even}}",
                )
            )
        )
