"""The JSON report follows docs/conformance-schema.json, and the schema catches bad reports."""

from __future__ import annotations

import copy
import json

import pytest
from dataflare.conformance import CHECK_NAMES, Budget, CheckResult, Report, Status, render_json

from conformance.schema import SchemaError, validate


def sample_report() -> Report:
    statuses = [Status.PASS, Status.WARN, Status.FAIL, Status.SKIP]
    checks = tuple(
        CheckResult(
            name,
            statuses[i % 4],
            f"detail of {name}",
            input="[Record(...)]" if statuses[i % 4] is Status.FAIL else None,
            metrics={
                "peak_memory_bytes": 65536,
                "fuel_per_record_max": 3,
                "fuel_per_record_mean": 2,
                "fuel_large_record": None,
                "fuel_per_input": [{"input": "x", "fuel": 3}],
            }
            if name == "resource-budget"
            else {},
            notes=("a note",),
        )
        for i, name in enumerate(CHECK_NAMES)
    )
    return Report(
        "p.wasm", "filter", "0.2.3", "0.2.0", 7, 5, {"a": "b"}, Budget().to_json(), checks
    )


def test_a_report_with_every_status_validates_and_round_trips_through_json():
    report = sample_report()
    document = json.loads(render_json(report))
    validate(document)
    assert document["passed"] is False
    assert [c["name"] for c in document["checks"]] == list(CHECK_NAMES)
    assert {c["status"] for c in document["checks"]} == {"pass", "warn", "fail", "skip"}


def test_warnings_and_skips_do_not_fail_a_run():
    report = sample_report()
    softened = tuple(
        CheckResult(c.name, Status.WARN if c.failed else c.status, c.detail) for c in report.checks
    )
    relaxed = Report("p.wasm", "filter", "0.1.0", "0.1.0", 0, 5, {}, Budget().to_json(), softened)
    assert relaxed.passed and relaxed.failures == ()
    assert report.failures == tuple(c.name for c in report.checks if c.status is Status.FAIL)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: d.pop("checks"),
        lambda d: d.update(kind="widget"),
        lambda d: d["checks"].pop(),
        lambda d: d["checks"][0].update(status="ok"),
        lambda d: d["checks"][0].update(name="speed"),
        lambda d: d["checks"][0].update(extra=1),
        lambda d: d["budget"].update(memory_bytes="lots"),
        lambda d: d.update(schema_version=1),
        lambda d: d.pop("world_version"),
        lambda d: d["params"].update(n=3),
        lambda d: d["checks"][CHECK_NAMES.index("resource-budget")].update(
            status="pass", metrics={}
        ),
    ],
    ids=[
        "no-checks",
        "bad-kind",
        "twelve-checks",
        "bad-status",
        "bad-name",
        "extra-key",
        "bad-budget",
        "schema-version",
        "no-world-version",
        "non-string-param",
        "budget-without-metrics",
    ],
)
def test_the_schema_rejects_malformed_reports(corrupt):
    document = json.loads(render_json(sample_report()))
    broken = copy.deepcopy(document)
    corrupt(broken)
    with pytest.raises(Exception) as caught:
        validate(broken)
    assert isinstance(caught.value, SchemaError) or type(caught.value).__name__ == "ValidationError"
