"""The merge check (aggregates, world 0.2): folding parts apart and merging equals one fold.

For any records cut into parts (empty parts included, so `merge` with a
fresh `init` is exercised), each part is folded from `init` with the
single-record `aggregate`, and the accumulators are merged left to right,
``merge(merge(p0, p1), p2)``, as the WIT orders them (`a` holds the earlier
records). `emit` of the result must give the same records, in the same
order, as `emit` after one fold over all records on another fresh instance.
"""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from dataflare._wit.types import Record
from dataflare.conformance._drivers import Driver
from dataflare.conformance._harness import Malformed, Outcome, Refused, Returned, Trapped
from dataflare.conformance._harness import describe_outcome as shown
from dataflare.conformance._inputs import batches, render_records
from dataflare.conformance._props import PropertyRun
from dataflare.conformance._results import CheckResult, Status
from dataflare.conformance._search import smallest_failure

__all__ = ["check_merge", "parts"]


def parts(records: list[Record], cuts: list[int]) -> list[list[Record]]:
    """`records` cut at `cuts` (taken modulo len + 1, repeats giving empty parts), in order."""
    bounds = [0, *sorted(c % (len(records) + 1) for c in cuts), len(records)]
    return [records[lo:hi] for lo, hi in itertools.pairwise(bounds)]


class _Stop(Exception):
    """Ends one example: `reason` is None when another check owns what happened (a fold trap)."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(reason)
        self.reason = reason


def _fold(driver: Driver, records: list[Record]) -> bytes:
    """Fold `records` from `init`; a record's plugin-error is skipped, as a pipeline skips it."""
    driver.acc = None
    for record in records:
        if isinstance(driver.feed(record), Trapped):
            raise _Stop(None)  # no-trap reports traps while folding
    failed = driver.start()
    if failed is not None:
        raise _Stop(None)
    assert driver.acc is not None
    return driver.acc


def _merged(driver: Driver, accumulators: list[bytes]) -> bytes:
    acc = accumulators[0]
    for index, other in enumerate(accumulators[1:], start=1):
        out = driver.merge(acc, other)
        if not isinstance(out, Returned):
            raise _Stop(f"merge of parts 0..{index - 1} with part {index} gave {shown(out)}")
        acc = out.value
    return bytes(acc)


def _comparable(outcome: Outcome | None) -> object:
    return ("error", outcome.kind) if isinstance(outcome, Refused) else outcome


def check_merge(run: PropertyRun) -> CheckResult:
    """Folding each part of any split and merging left to right emits what one fold emits."""

    def why(case: tuple[list[Record], list[int]]) -> str | None:
        records, cuts = case
        pieces = parts(records, cuts)
        whole = run.driver()
        split = run.driver()
        try:
            _fold(whole, records)
            one = whole.finish()
            if isinstance(one, Trapped | Malformed):
                return None  # no-trap and batch-output report emit itself
            split.acc = _merged(split, [_fold(split, piece) for piece in pieces])
            merged = split.finish()
        except _Stop as stop:
            return stop.reason
        finally:
            whole.probe.close()
            split.probe.close()
        if _comparable(merged) != _comparable(one):
            sizes = [len(p) for p in pieces]
            return (
                f"emit differs: parts of {sizes} record(s) folded apart and merged left to right"
                f" {shown(merged)}, one fold {shown(one)}"  # type: ignore[arg-type]
            )
        return None

    cases = st.tuples(
        batches(run.vocabulary),
        st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=3),
    )
    found = smallest_failure(cases, why, seed=run.seed, examples=run.examples)
    if found is not None:
        (records, cuts), reason = found
        sizes = [len(p) for p in parts(records, cuts)]
        return CheckResult(
            "merge", Status.FAIL, reason, input=f"{render_records(records)} in parts of {sizes}"
        )
    return CheckResult(
        "merge",
        Status.PASS,
        f"on {run.examples} generated lists cut into parts (empty ones too), folding each part"
        " from init and merging left to right emits the same records, in order, as one fold",
    )
