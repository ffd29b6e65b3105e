"""The lifecycle check for sources and sinks: configure, connect, use, close, then misuse.

Use after close must be a `plugin-error`: never a trap, and never a success
("later calls fail" in the WIT). Use before connect must not trap either;
it runs last, on an instance of its own, so a trap there cannot hide what
happens after close. A source must also resume exactly at a position it returned
from `checkpoint`.
"""

from __future__ import annotations

from dataflare._wit import types as wit
from dataflare._wit.types import Record
from dataflare.conformance._drivers import Driver
from dataflare.conformance._harness import (
    Malformed,
    Outcome,
    Refused,
    Returned,
    Subject,
    Trapped,
    describe_outcome,
)
from dataflare.conformance._inputs import standard_records
from dataflare.conformance._results import CheckResult, Status
from dataflare.model import PluginKind

__all__ = ["check_lifecycle"]


class _Steps:
    """Runs lifecycle steps on fresh probes, noting every step and every problem."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        self.probe = subject.probe()
        self.trail: list[str] = []
        self.problems: list[str] = []
        self.warning: str | None = None

    def fresh(self) -> None:
        """Continue on a new configured instance."""
        self.probe.close()
        self.probe = self.subject.probe()

    def call(self, step: str, export: str, *args: object, must: str = "no-trap") -> Outcome:
        """One call; `must` is "no-trap", "ok" (success) or "error" (a plugin-error)."""
        dead = self.probe.trap is not None
        outcome = self.probe.call(export, *args)
        if dead:
            self.trail.append(f"{step}: not run (the instance trapped earlier)")
            return outcome
        self.trail.append(f"{step}: {describe_outcome(outcome)}")
        problem = _problem(step, outcome, must)
        if problem is not None:
            self.problems.append(problem)
        return outcome

    def batch(self, step: str, records: list[Record], must: str = "no-trap") -> None:
        """`write-batch` through the world's batch shape; "error": every record must fail."""
        dead = self.probe.trap is not None
        out = Driver(self.probe, self.subject.kind).feed_batch(records)
        if dead:
            self.trail.append(f"{step}: not run (the instance trapped earlier)")
            return
        if isinstance(out, Trapped | Malformed):
            self.trail.append(f"{step}: {describe_outcome(out)}")
            self.problems.append(_problem(step, out, must) or f"{step}: {describe_outcome(out)}")
            return
        shown = ", ".join(describe_outcome(o) for o in out)
        self.trail.append(f"{step}: [{shown}]")
        if must == "error" and any(isinstance(o, Returned) for o in out):
            self.problems.append(f"{step} accepted a record, but calls after close must fail")

    def connect(self) -> str:
        """Connect; the strictness later steps need ("ok", or "no-trap" when it failed)."""
        connected = self.call("connect", "connect")
        if isinstance(connected, Refused):
            self.warning = f"connect failed in the sandbox ({describe_outcome(connected)})"
            return "no-trap"
        return "ok"


def _problem(step: str, outcome: Outcome, must: str) -> str | None:
    if isinstance(outcome, Trapped):
        return f"{step} trapped: {outcome.message}"
    if must == "ok" and not isinstance(outcome, Returned):
        return f"{step} failed: {describe_outcome(outcome)}"
    if must != "error":
        return None
    if not isinstance(outcome, Refused):
        return f"{step} succeeded, but calls after close must fail"
    return None


def _pending(*outcomes: Outcome) -> bool:
    return any(
        isinstance(o, Returned) and isinstance(o.value, wit.ReadOutcomePending) for o in outcomes
    )


def _source(steps: _Steps) -> None:
    strict = steps.connect()
    steps.call("read(1)", "read", 1)
    position = steps.call("checkpoint", "checkpoint")
    first = steps.call("read(5)", "read", 5)
    if isinstance(position, Returned):
        steps.call("restore(checkpoint)", "restore", position.value, must=strict)
        again = steps.call("read(5) after restore", "read", 5)
        # A 0.2 source may answer pending at any time; only records show where it resumed.
        if isinstance(first, Returned) and again != first and not _pending(first, again):
            steps.problems.append("read after restore(checkpoint) did not resume at the checkpoint")
    steps.call("close", "close", must=strict)
    steps.call("read after close", "read", 1, must="error")
    steps.call("checkpoint after close", "checkpoint", must="error")
    steps.call("close again", "close")
    steps.fresh()
    steps.call("read before connect", "read", 1)


def _sink(steps: _Steps) -> None:
    sample = standard_records()[:3]
    wired = [steps.subject.wire(r) for r in sample]
    strict = steps.connect()
    for index, record in enumerate(wired):
        steps.call(f"write #{index}", "write", record)
    steps.batch("write-batch", sample)
    steps.call("flush", "flush")
    steps.call("close", "close", must=strict)
    steps.call("write after close", "write", wired[1], must="error")
    steps.batch("write-batch after close", sample[:1], must="error")
    steps.call("flush after close", "flush", must="error")
    steps.call("close again", "close")
    steps.fresh()
    steps.call("write before connect", "write", wired[0])


def check_lifecycle(subject: Subject) -> CheckResult:
    """Connect, use, close, use after close: errors where the WIT says calls fail, never traps."""
    steps = _Steps(subject)
    (_source if subject.kind is PluginKind.SOURCE else _sink)(steps)
    steps.probe.close()
    if steps.problems:
        first, *rest = steps.problems
        return CheckResult("lifecycle", Status.FAIL, first, notes=(*rest, "steps:", *steps.trail))
    if steps.warning is not None:
        return CheckResult(
            "lifecycle",
            Status.WARN,
            f"{steps.warning}; only the unconnected path and use-after-close were exercised",
            notes=tuple(steps.trail),
        )
    return CheckResult(
        "lifecycle",
        Status.PASS,
        "connect, use, close succeed; use after close is a plugin-error; close twice does not trap",
        notes=tuple(steps.trail),
    )
