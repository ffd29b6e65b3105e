"""The source-read check (world 0.2): `read` tells records, pending and end apart.

0.1 had one answer for "nothing": an empty list, which ended the pipeline.
0.2 says `pending` (nothing now, ask again) or `end` (the stream is over),
and `records` holds at least one record and at most `max`. After `end` the
host stops reading, so a source that later gives records (without a
`restore` in between) would have them lost: `end` must stay `end`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from dataflare.columns import END, PENDING
from dataflare.conformance._drivers import SourceOp, source_ops, standard_source_ops
from dataflare.conformance._harness import Malformed, Returned
from dataflare.conformance._props import PropertyRun
from dataflare.conformance._results import CheckResult, Status

__all__ = ["check_source_read"]


def _show(ops: Sequence[SourceOp]) -> str:
    return "[" + ", ".join(str(op) for op in ops) + "]"


def _answer(value: object) -> str:
    if value is PENDING:
        return "pending"
    if value is END:
        return "end"
    return "records"


def check_source_read(run: PropertyRun) -> CheckResult:
    """`read` answers well-formed records (1..max), `pending` or `end`, and `end` stays `end`."""
    seen: Counter[str] = Counter()

    def why(ops: list[SourceOp]) -> str | None:
        driver = run.driver()
        ended = False
        try:
            for index, op in enumerate(ops):
                out = driver.feed(op)
                if op.name == "restore":
                    ended = False
                if op.name != "read" or driver.probe.trap is not None:
                    continue
                if isinstance(out, Malformed):
                    return f"call {index}, {op}: {out.problem}"
                if not isinstance(out, Returned):
                    continue
                answer = _answer(out.value)
                seen[answer] += 1
                if ended and answer == "records":
                    return (
                        f"call {index}, {op}: gave records after end; the host stops reading at"
                        " end, so they would be lost (answer pending if more may come)"
                    )
                ended = ended or answer == "end"
        finally:
            driver.probe.close()
        return None

    fixed = [*standard_source_ops(), SourceOp("read", 1000), SourceOp("read", 1)]
    found = run.failure(source_ops(), why, fixed)
    if found is not None:
        ops, reason = found
        return CheckResult("source-read", Status.FAIL, reason, input=_show(ops))
    counts = ", ".join(f"{seen[a]} {a}" for a in ("records", "pending", "end"))
    return CheckResult(
        "source-read",
        Status.PASS,
        f"read answered records (1..max, well formed), pending or end on the standard and"
        f" {run.examples} generated call sequences; end stayed end until restore ({counts})",
        metrics={"answers": dict(seen)},
    )
