"""`dataflare check` on 0.1 components (the committed 0.1 builds): every 0.1 check as before.

The checks of what world 0.2 added are skipped, saying why, and the report
names the world version the component was checked as.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dataflare.conformance import Status, render_text, run_checks

from conformance.conftest import EXAMPLES

V0_1 = Path(__file__).resolve().parents[1] / "fixtures" / "v0_1"
PARAMS = {
    "json_filter": {"field": "status", "value": "active"},
    "count_sum": {"group_by": "user", "sum_field": "amount"},
    "jsonl_sink": {"path": "/out/records.jsonl"},
}
RUST_V0_1 = ["json_filter", "mask_email", "count_sum", "gen_source", "jsonl_sink"]
ADDED_IN_0_2 = ("batch-output", "merge", "source-read")


@pytest.mark.parametrize("name", RUST_V0_1)
def test_a_0_1_component_passes_the_0_1_checks_and_skips_the_0_2_ones(name):
    report = run_checks(
        V0_1 / f"{name}.rust.wasm", params=PARAMS.get(name, {}), examples=EXAMPLES, seed=1
    )
    shown = render_text(report)
    assert report.passed, shown
    assert report.world_version == "0.1.0"
    assert report.to_json()["world_version"] == "0.1.0"
    assert "checked as world dataflare:plugin@0.1.0" in shown
    assert "checked as world 0.1.0" in report.check("world").detail
    for check in ADDED_IN_0_2:
        result = report.check(check)
        assert result.status is Status.SKIP
    ran = {c.name for c in report.checks if c.status is not Status.SKIP}
    assert {"no-trap", "determinism"} <= ran
    if name == "count_sum":
        assert report.check("merge").detail == "world 0.1.0: 0.1 aggregates have no merge"
        assert report.check("aggregate-fold").status is Status.PASS
    if name != "gen_source":
        assert report.check("batch").status is Status.PASS
