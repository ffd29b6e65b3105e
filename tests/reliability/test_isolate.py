"""Poison-record isolation by bisection, on a fake plugin (property tests)."""

from __future__ import annotations

import pytest
from dataflare import PluginStopped
from dataflare.errors import GuestTrap, ProcessingError
from dataflare.pipeline.poison_bisect import MAX_CONSECUTIVE_TRAPS, Isolator
from hypothesis import given
from hypothesis import strategies as st


def _longest_run(flags: list[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


@given(st.lists(st.booleans(), min_size=1, max_size=64))
def test_only_poison_records_fail_and_every_other_gets_its_outcome(poison):
    calls: list[list[int]] = []

    def call(batch: list[int]) -> list[int]:
        calls.append(batch)
        if any(poison[i] for i in batch):
            raise GuestTrap("wasm trap: unreachable")
        return [i * 10 for i in batch]

    isolator = Isolator("s")
    if _longest_run(poison) >= MAX_CONSECUTIVE_TRAPS:
        with pytest.raises(PluginStopped, match="trapped on 8 records in a row"):
            isolator.run(list(range(len(poison))), call)
        return
    outcomes = isolator.run(list(range(len(poison))), call)
    for i, outcome in enumerate(outcomes):
        if poison[i]:
            assert isinstance(outcome, GuestTrap)
        else:
            assert outcome == i * 10
    assert isolator.poison == sum(poison)
    assert isolator.traps == sum(1 for batch in calls if any(poison[i] for i in batch))
    # Bisection stays cheap: at most 2 calls per record, plus the first.
    assert len(calls) <= 2 * len(poison)


def test_a_plugin_error_for_the_whole_call_is_not_bisected():
    calls = []

    def call(batch: list[int]) -> list[int]:
        calls.append(batch)
        raise ProcessingError("refused")

    outcomes = Isolator("s").run([1, 2, 3], call)
    assert [str(o) for o in outcomes] == ["refused"] * 3
    assert calls == [[1, 2, 3]]


def test_a_batch_stopped_by_a_limit_is_retried_record_by_record():
    from dataflare import LimitExceeded

    calls: list[list[int]] = []

    def call(batch: list[int]) -> list[int]:
        calls.append(batch)
        if 5 in batch:
            raise LimitExceeded("interrupt (time limit 0.1s per call)", limit="timeout", value=0.1)
        return batch

    outcomes = Isolator("s").run(list(range(8)), call)
    assert [o if isinstance(o, int) else "limit" for o in outcomes] == [
        0,
        1,
        2,
        3,
        4,
        "limit",
        6,
        7,
    ]
    # One trapped batch, then each record alone: the limit is paid twice, not per level.
    assert calls == [list(range(8))] + [[i] for i in range(8)]
