"""The batch-output check (world 0.2): columnar results obey the WIT's rules.

A columnar result can be wrong in ways a per-record one cannot: `ends` past
the text or going backwards, a last end that is not the text's UTF-8 length
(character offsets instead of byte offsets), a keep bitmap of the wrong
length, an error naming a record that is not in the batch. The host would
slice wrong values or fail on such a result, so this check runs the batch
export (and, for aggregates, `emit` after it) on the standard records and on
generated batches, and reports the first rule broken with the smallest batch
that breaks it.
"""

from __future__ import annotations

from dataflare._wit.types import Record
from dataflare.conformance._drivers import BATCH_EXPORT
from dataflare.conformance._harness import Malformed
from dataflare.conformance._inputs import batches, render_records, standard_records
from dataflare.conformance._props import BATCH_RECORDS, PropertyRun
from dataflare.conformance._results import CheckResult, Status
from dataflare.model import PluginKind

__all__ = ["check_batch_output"]

_RULES = {
    PluginKind.FILTER: "keep bitmap of one bit per record; error indices in the batch, once each",
    PluginKind.TRANSFORM: (
        "one record per input; ends non-decreasing UTF-8 byte offsets ending at the text's"
        " length; binary/absent indices increasing with empty spans; error indices in the batch"
    ),
    PluginKind.SINK: "error indices in the batch, once each",
    PluginKind.AGGREGATE: (
        "error indices in the batch, once each; emit's batch with well-formed ends, binary,"
        " absent, timestamps and metadata"
    ),
}


def check_batch_output(run: PropertyRun) -> CheckResult:
    """Every columnar result of the batch export (and of `emit`) is well formed."""
    kind = run.subject.kind
    export = BATCH_EXPORT[kind]

    def why(records: list[Record]) -> str | None:
        driver = run.driver()
        try:
            out = driver.feed_batch(records)
            if isinstance(out, Malformed):
                return f"{export} of {len(records)} record(s): {out.problem}"
            if kind is PluginKind.AGGREGATE and driver.probe.trap is None:
                emitted = driver.finish()
                if isinstance(emitted, Malformed):
                    return f"emit after {export} of {len(records)} record(s): {emitted.problem}"
        finally:
            driver.probe.close()
        return None

    found = run.failure(
        batches(run.vocabulary, BATCH_RECORDS), why, standard_records(run.vocabulary)
    )
    if found is not None:
        records, reason = found
        return CheckResult("batch-output", Status.FAIL, reason, input=render_records(records))
    return CheckResult(
        "batch-output",
        Status.PASS,
        f"{export} results are well formed on the standard records and {run.examples}"
        f" generated batches ({_RULES[kind]})",
    )
