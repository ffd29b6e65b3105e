"""Property checks over generated inputs: no-trap, determinism, batch, aggregate-fold.

Each example runs on fresh instances, so a failing input is reproducible on
its own, and its smallest form (hypothesis shrinking) is what the report shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import strategies as st

from dataflare._wit_v0_1.types import Record
from dataflare.conformance._budget import StandardRun, label
from dataflare.conformance._drivers import BATCH_EXPORT, Driver, SourceOp, source_ops
from dataflare.conformance._harness import (
    Outcome,
    Refused,
    Subject,
    Trapped,
    describe_outcome,
)
from dataflare.conformance._inputs import batches, render_records, standard_records
from dataflare.conformance._results import CheckResult, Status
from dataflare.conformance._search import smallest_failure
from dataflare.model import PluginKind

__all__ = [
    "PropertyRun",
    "check_aggregate_fold",
    "check_batch",
    "check_determinism",
    "check_no_trap",
]

Item = Record | SourceOp
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PropertyRun:
    """What every property check needs: the subject, its vocabulary, seed and tries."""

    subject: Subject
    vocabulary: tuple[str, ...]
    seed: int
    examples: int

    def inputs(self) -> st.SearchStrategy[list[Any]]:
        """Lists of records, or of source operations for a source."""
        if self.subject.kind is PluginKind.SOURCE:
            return source_ops()
        return batches(self.vocabulary)

    def driver(self) -> Driver:
        """A fresh, configured (and for sources/sinks connected) instance."""
        return Driver(self.subject.probe(connect=True), self.subject.kind)

    def failure(
        self, strategy: st.SearchStrategy[T], why: Callable[[T], str | None], fixed: T
    ) -> tuple[T, str] | None:
        """The smallest generated input `why` rejects; else `fixed`, if `why` rejects it."""
        # fixed runs before the search, as the checks always ran it: same call order
        on_fixed = why(fixed)
        found = smallest_failure(strategy, why, seed=self.seed, examples=self.examples)
        if found is None and on_fixed is not None:
            found = (fixed, on_fixed)
        return found


def _show(items: Sequence[Item]) -> str:
    if items and isinstance(items[0], SourceOp):
        return "[" + ", ".join(str(i) for i in items) + "]"
    return render_records([i for i in items if isinstance(i, Record)])


def _sequence(run: PropertyRun, items: Sequence[Item]) -> list[Outcome]:
    driver = run.driver()
    outcomes = [driver.feed(item) for item in items]
    final = driver.finish()
    if final is not None:
        outcomes.append(final)
    driver.probe.close()
    return outcomes


def _where(items: Sequence[Item], index: int) -> str:
    return f"input {index}" if index < len(items) else "end of stream"


def check_no_trap(run: PropertyRun, standard: StandardRun) -> CheckResult:
    """No input traps; every failure comes back as a `plugin-error`."""

    def why(items: list[Item]) -> str | None:
        for index, outcome in enumerate(_sequence(run, items)):
            if isinstance(outcome, Trapped):
                return f"{_where(items, index)} trapped: {outcome.message}"
        return None

    found = smallest_failure(run.inputs(), why, seed=run.seed, examples=run.examples)
    first = standard.first_trap()
    notes = []
    if first is not None and first[0] < len(standard.items):
        index, trap = first
        notes.append(f"standard input {label(standard.items[index])} trapped: {trap.message}")
    if found is not None:
        items, reason = found
        return CheckResult("no-trap", Status.FAIL, reason, input=_show(items), notes=tuple(notes))
    if first is not None:
        index, trap = first
        shown = label(standard.items[index]) if index < len(standard.items) else "end of stream"
        return CheckResult("no-trap", Status.FAIL, f"trapped: {trap.message}", input=shown)
    refused: dict[str, int] = {}
    for outcome in standard.outcomes:
        if isinstance(outcome, Refused):
            refused[outcome.kind] = refused.get(outcome.kind, 0) + 1
    errors = ", ".join(f"{n} {k}" for k, n in sorted(refused.items())) or "none"
    return CheckResult(
        "no-trap",
        Status.PASS,
        f"{len(standard.items)} standard and up to {run.examples} generated inputs; no trap"
        f" (plugin-errors on standard inputs: {errors})",
        metrics={"standard_errors": refused},
    )


def check_determinism(run: PropertyRun) -> CheckResult:
    """The same inputs give the same outcomes on two fresh instances."""

    def why(items: list[Item]) -> str | None:
        first, second = _sequence(run, items), _sequence(run, items)
        for index, (a, b) in enumerate(zip(first, second, strict=False)):
            if a != b:
                return (
                    f"{_where(items, index)}: first instance {describe_outcome(a)},"
                    f" second instance {describe_outcome(b)}"
                )
        return None

    fixed: list[Item] = list(standard_records(run.vocabulary))
    if run.subject.kind is PluginKind.SOURCE:
        fixed = [SourceOp("read", 10), SourceOp("checkpoint"), SourceOp("read", 10)]
    found = run.failure(run.inputs(), why, fixed)
    if found is not None:
        items, reason = found
        return CheckResult("determinism", Status.FAIL, reason, input=_show(items))
    return CheckResult(
        "determinism",
        Status.PASS,
        f"two fresh instances agree on {run.examples} generated input lists",
    )


def _comparable(outcome: Outcome) -> object:
    # Batch and single forms must agree on values and error kinds, not messages.
    if isinstance(outcome, Refused):
        return ("error", outcome.kind)
    return outcome


def check_batch(run: PropertyRun) -> CheckResult:
    """The batch export equals the single export applied record by record."""
    kind = run.subject.kind
    export = BATCH_EXPORT[kind]

    def why(records: list[Record]) -> str | None:
        single = run.driver()
        one_by_one = [single.feed(r) for r in records]
        single.probe.close()
        batch = run.driver()
        together = batch.feed_batch(records)
        batch.probe.close()
        if isinstance(together, Trapped) or any(isinstance(o, Trapped) for o in one_by_one):
            return None  # traps are no-trap's finding; nothing to compare
        if len(together) != len(records):
            return f"{export} returned {len(together)} outcome(s) for {len(records)} record(s)"
        for index, (a, b) in enumerate(zip(one_by_one, together, strict=True)):
            if _comparable(a) != _comparable(b):
                return f"record {index}: single {describe_outcome(a)}, batch {describe_outcome(b)}"
        return None

    fixed = standard_records(run.vocabulary)
    found = run.failure(batches(run.vocabulary), why, fixed)
    if found is not None:
        records, reason = found
        return CheckResult("batch", Status.FAIL, reason, input=render_records(records))
    return CheckResult(
        "batch",
        Status.PASS,
        f"{export} matches {kind.value if kind is not PluginKind.SINK else 'write'} record by"
        f" record on {run.examples} generated lists (values and error kinds)",
    )


def check_aggregate_fold(run: PropertyRun) -> CheckResult:
    """Folding with `aggregate-batch` (in any chunks) equals folding one by one from `init`."""

    def why(case: tuple[list[Record], list[int]]) -> str | None:
        records, cuts = case
        single = run.driver()
        singles = [single.feed(r) for r in records]
        emitted_single = single.finish()
        single.probe.close()
        batch = run.driver()
        outcomes: list[Outcome] = []
        bounds = sorted({0, len(records), *(c % (len(records) + 1) for c in cuts)})
        for lo, hi in itertools.pairwise(bounds):
            part = batch.feed_batch(records[lo:hi])
            if isinstance(part, Trapped):
                return None
            outcomes.extend(part)
        emitted_batch = batch.finish()
        batch.probe.close()
        if any(isinstance(o, Trapped) for o in [*singles, emitted_single, emitted_batch]):
            return None
        if len(outcomes) != len(records):
            return (
                f"aggregate-batch returned {len(outcomes)} outcome(s) for {len(records)} record(s)"
            )
        for index, (a, b) in enumerate(zip(singles, outcomes, strict=True)):
            if _comparable(a) != _comparable(b):
                return (
                    f"record {index}: one by one {describe_outcome(a)}, batch {describe_outcome(b)}"
                )
        if emitted_single != emitted_batch:
            chunks = [hi - lo for lo, hi in itertools.pairwise(bounds)]
            return (
                f"emit differs: one by one {describe_outcome(emitted_single)},"  # type: ignore[arg-type]
                f" batch in chunks {chunks} {describe_outcome(emitted_batch)}"  # type: ignore[arg-type]
            )
        return None

    cases = st.tuples(
        batches(run.vocabulary), st.lists(st.integers(min_value=0, max_value=8), max_size=2)
    )
    found = smallest_failure(cases, why, seed=run.seed, examples=run.examples)
    if found is not None:
        (records, cuts), reason = found
        return CheckResult(
            "aggregate-fold", Status.FAIL, reason, input=f"{render_records(records)} cut at {cuts}"
        )
    return CheckResult(
        "aggregate-fold",
        Status.PASS,
        f"batch folds (in random chunks) emit the same as one-by-one folds on {run.examples} lists",
    )
