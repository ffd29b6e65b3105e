"""The resource-budget check: the standard inputs within a stated memory and fuel budget.

wasmtime exposes no memory-size query for components, so peak linear memory
is found by bisection on the store's memory limit: the smallest limit under
which the small standard inputs still give exactly the reference outcomes
(linear memory never shrinks, so "fits" is monotonic). The 1 MiB input is
run once, under the budget, and left out of the bisection because each
transfer of it costs about a second in wasmtime-py.

A trap under the budget is blamed on memory when it moves with the limit:
run again under a quarter of the budget, a memory-bound failure comes
earlier (less fuel used, or an earlier input), while a bug traps at the
same place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dataflare._wit_v0_1.types import Record
from dataflare.conformance._drivers import Driver, SourceOp, standard_source_ops
from dataflare.conformance._harness import Outcome, Refused, Returned, Subject, Trapped
from dataflare.conformance._inputs import large_record, render, standard_records
from dataflare.conformance._results import CheckResult, Status
from dataflare.model import PluginKind

__all__ = ["StandardRun", "check_budget"]

PAGE = 64 * 1024
_RESOLUTION = 64
"""Bisection stops within 1/64 of the peak (or one page)."""

Item = Record | SourceOp
_RUNAWAY = ("fuel", "timeout")


@dataclass
class StandardRun:
    """Outcomes and fuel of every standard input, in order (shared with no-trap)."""

    items: list[Item]
    outcomes: list[Outcome] = field(default_factory=list)
    fuel: list[int] = field(default_factory=list)

    def first_trap(self) -> tuple[int, Trapped] | None:
        """Index and trap of the first input that trapped."""
        for index, outcome in enumerate(self.outcomes):
            if isinstance(outcome, Trapped):
                return index, outcome
        return None


def standard_items(subject: Subject, vocabulary: Sequence[str]) -> tuple[list[Item], list[Item]]:
    """(small inputs, large inputs) for the subject's kind."""
    if subject.kind is PluginKind.SOURCE:
        return list(standard_source_ops()), []
    return list(standard_records(vocabulary)), [large_record()]


def label(item: Item) -> str:
    """An input for people."""
    return str(item) if isinstance(item, SourceOp) else render(item)


def _run(subject: Subject, items: Sequence[Item], memory: int, stop_at_trap: bool) -> StandardRun:
    """Feed `items` in order to one instance, starting a fresh one after a trap."""
    run = StandardRun(list(items))
    driver = Driver(subject.probe(connect=True, memory_bytes=memory), subject.kind)
    for item in items:
        trap = driver.probe.trap
        if trap is not None and trap.cause == "instantiate":
            run.outcomes.extend([trap] * (len(items) - len(run.outcomes)))
            return run
        if trap is not None:
            driver.probe.close()
            driver = Driver(subject.probe(connect=True, memory_bytes=memory), subject.kind)
        outcome = driver.feed(item)
        run.outcomes.append(outcome)
        run.fuel.append(driver.probe.fuel)
        # A runaway call (fuel, time) ends the run: every later input would only
        # burn its own budget again.
        if isinstance(outcome, Trapped) and (stop_at_trap or outcome.cause in _RUNAWAY):
            driver.probe.close()
            return run
    # After a trap the accumulator or open sink is gone: nothing to finish.
    final = driver.finish() if driver.probe.trap is None else None
    if final is not None:
        run.outcomes.append(final)
        run.fuel.append(driver.probe.fuel)
    driver.probe.close()
    return run


def _same(a: Sequence[Outcome], b: Sequence[Outcome]) -> bool:
    def key(o: Outcome) -> object:
        return ("trap", o.cause) if isinstance(o, Trapped) else o

    return len(a) == len(b) and all(key(x) == key(y) for x, y in zip(a, b, strict=True))


def _traps(run: StandardRun) -> list[tuple[int, int]]:
    return [(i, o.fuel) for i, o in enumerate(run.outcomes) if isinstance(o, Trapped)]


def _memory_bound_input(subject: Subject, items: Sequence[Item], run: StandardRun) -> int | None:
    """The first input whose trap moves when memory shrinks (None: no trap depends on memory)."""
    first = run.first_trap()
    if first is not None and first[1].cause == "instantiate":
        return 0
    # Inputs after the last trap cannot change the verdict; leaving them out
    # spares the 1 MiB transfer when only small inputs trap.
    last = _traps(run)[-1][0]
    smaller = _run(subject, items[: last + 1], subject.budget.memory_bytes // 4, stop_at_trap=False)
    full = [t for t in _traps(run) if t[0] <= last]
    less = [t for t in _traps(smaller) if t[0] <= last]
    for (i, fuel), (j, other) in zip(full, less, strict=False):
        if (i, fuel) != (j, other):
            return min(i, j)
    if len(full) != len(less):
        return min(full[len(less)][0] if len(full) > len(less) else less[len(full)][0], last)
    return None


def _peak_memory(subject: Subject, items: Sequence[Item], reference: Sequence[Outcome]) -> int:
    lo, hi = 0, subject.budget.memory_bytes // PAGE
    while hi - lo > max(1, hi // _RESOLUTION):
        mid = (lo + hi) // 2
        if _same(_run(subject, items, mid * PAGE, stop_at_trap=False).outcomes, reference):
            hi = mid
        else:
            lo = mid
    return hi * PAGE


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def check_budget(
    subject: Subject, vocabulary: Sequence[str]
) -> tuple[CheckResult, StandardRun, bool]:
    """Run the standard inputs under the budget; measure fuel per record and peak memory.

    Returns the result, the run (its outcomes feed `no-trap`), and whether
    the plugin exhausted its budget (then the record checks are skipped).
    """
    budget = subject.budget
    small, large = standard_items(subject, vocabulary)
    items = small + large
    run = _run(subject, items, budget.memory_bytes, stop_at_trap=False)
    for index, outcome in enumerate(run.outcomes):
        if isinstance(outcome, Trapped) and outcome.cause in _RUNAWAY:
            where = label(items[index]) if index < len(items) else "end of stream"
            result = CheckResult(
                "resource-budget",
                Status.FAIL,
                outcome.message,
                input=where,
                metrics={"cause": outcome.cause, **budget.to_json()},
            )
            return result, run, True
    if run.first_trap() is not None:
        at = _memory_bound_input(subject, items, run)
        if at is not None:
            where = label(items[at]) if at < len(items) else "end of stream"
            result = CheckResult(
                "resource-budget",
                Status.FAIL,
                f"exceeds the memory budget of {_mib(budget.memory_bytes)}: with less memory"
                " it traps sooner, so it is memory, not a bug in one input, that runs out",
                input=where,
                metrics={"cause": "memory", **budget.to_json()},
            )
            return result, run, True
    fed = list(zip(run.fuel, run.outcomes[: len(items)], strict=False))
    per_record = [f for f, o in fed[: len(small)] if not isinstance(o, Trapped)]
    large_fuel = [f for f, o in fed[len(small) :] if not isinstance(o, Trapped)]
    reference = _run(subject, small, budget.memory_bytes, stop_at_trap=False).outcomes
    peak = _peak_memory(subject, small, reference)
    traps = sum(1 for o in run.outcomes if isinstance(o, Trapped))
    refused = sum(1 for o in run.outcomes if isinstance(o, Refused))
    returned = sum(1 for o in run.outcomes if isinstance(o, Returned))
    unit = "call" if subject.kind is PluginKind.SOURCE else "record"
    fuel_max = max(per_record, default=0)
    fuel_mean = sum(per_record) // len(per_record) if per_record else 0
    detail = (
        f"peak memory {_mib(peak)} of {_mib(budget.memory_bytes)} (small inputs);"
        f" fuel per {unit} max {fuel_max:,}, mean {fuel_mean:,} (budget {budget.fuel_base:,}"
        f" + {budget.fuel_per_byte:,}/byte)"
    )
    if large_fuel:
        detail += f"; 1 MiB record: {large_fuel[0]:,} fuel, fits in the memory budget"
    notes = []
    if traps:
        notes.append(f"{traps} standard input(s) trapped, not for lack of resources (see no-trap)")
    metrics = {
        "peak_memory_bytes": peak,
        "fuel_per_record_max": fuel_max,
        "fuel_per_record_mean": fuel_mean,
        "fuel_large_record": large_fuel[0] if large_fuel else None,
        "fuel_per_input": [
            {"input": label(items[i]) if i < len(items) else "end of stream", "fuel": f}
            for i, f in enumerate(run.fuel)
        ],
        "outcomes": {"ok": returned, "error": refused, "trap": traps},
        **budget.to_json(),
    }
    return (
        CheckResult("resource-budget", Status.PASS, detail, metrics=metrics, notes=tuple(notes)),
        run,
        False,
    )
