"""The lifecycle check for sources and sinks: configure, connect, use, close, then misuse.

Use before connect and after close must be a `plugin-error`, never a trap;
after close it must not succeed either ("later calls fail" in the WIT). A
source must also resume exactly at a position it returned from `checkpoint`.
"""

from __future__ import annotations

from dataflare.bindgen import rt
from dataflare.bindings.types import Record
from dataflare.conformance._harness import (
    Outcome,
    Probe,
    Refused,
    Returned,
    Subject,
    Trapped,
    describe_outcome,
)
from dataflare.conformance._inputs import standard_records
from dataflare.conformance._model import CheckResult, Status
from dataflare.model import PluginKind

__all__ = ["check_lifecycle"]


class _Steps:
    """Runs lifecycle steps on one probe, noting the first problem and every step."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.trail: list[str] = []
        self.problem: str | None = None
        self.warning: str | None = None

    def call(self, step: str, export: str, *args: object, must: str = "no-trap") -> Outcome:
        outcome = self.probe.call(export, *args)
        self.trail.append(f"{step}: {describe_outcome(outcome)}")
        if self.problem is None:
            if isinstance(outcome, Trapped):
                self.problem = f"{step} trapped: {outcome.message}"
            elif must == "ok" and not isinstance(outcome, Returned):
                self.problem = f"{step} failed: {describe_outcome(outcome)}"
            elif must == "error" and not isinstance(outcome, Refused):
                self.problem = f"{step} succeeded, but calls after close must fail"
        return outcome

    def batch_after_close(self, records: list[Record]) -> None:
        outcome = self.probe.call("write-batch", records)
        self.trail.append(f"write-batch after close: {describe_outcome(outcome)}")
        if self.problem is not None:
            return
        if isinstance(outcome, Trapped):
            self.problem = f"write-batch after close trapped: {outcome.message}"
        elif isinstance(outcome, Returned) and any(isinstance(o, rt.Ok) for o in outcome.value):
            self.problem = "write-batch after close accepted a record; calls after close must fail"


def check_lifecycle(subject: Subject) -> CheckResult:
    """Connect, use, close, use after close: errors where the WIT says calls fail, never traps."""
    probe = subject.probe()
    steps = _Steps(probe)
    sample = standard_records()[:3]
    if subject.kind is PluginKind.SOURCE:
        steps.call("read before connect", "read", 1)
        connected = steps.call("connect", "connect")
        if isinstance(connected, Refused):
            steps.warning = f"connect failed in the sandbox ({describe_outcome(connected)})"
        steps.call("read(1)", "read", 1)
        position = steps.call("checkpoint", "checkpoint")
        first = steps.call("read(5)", "read", 5)
        if isinstance(position, Returned):
            steps.call(
                "restore(checkpoint)",
                "restore",
                position.value,
                must="ok" if steps.warning is None else "no-trap",
            )
            again = steps.call("read(5) after restore", "read", 5)
            if steps.problem is None and isinstance(first, Returned) and again != first:
                steps.problem = (
                    "read after restore(checkpoint) did not resume where the checkpoint was taken"
                )
        steps.call("close", "close", must="ok" if steps.warning is None else "no-trap")
        steps.call("read after close", "read", 1, must="error")
        steps.call("checkpoint after close", "checkpoint", must="error")
        steps.call("close again", "close")
    else:
        steps.call("write before connect", "write", sample[0])
        connected = steps.call("connect", "connect")
        if isinstance(connected, Refused):
            steps.warning = f"connect failed in the sandbox ({describe_outcome(connected)})"
        for index, record in enumerate(sample):
            steps.call(f"write #{index}", "write", record)
        steps.call("write-batch", "write-batch", sample)
        steps.call("flush", "flush")
        steps.call("close", "close", must="ok" if steps.warning is None else "no-trap")
        steps.call("write after close", "write", sample[1], must="error")
        steps.batch_after_close(sample[:1])
        steps.call("flush after close", "flush", must="error")
        steps.call("close again", "close")
    probe.close()
    if steps.problem is not None:
        return CheckResult("lifecycle", Status.FAIL, steps.problem, notes=tuple(steps.trail))
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
