"""batch-output on real 0.2 components: the hand-written test guest's `break=<rule>` answers.

tests/fixtures/guest_v0_2 answers batches against the WIT contract when
configured with ``break=<rule>``; each rule must fail batch-output first,
through real wasmtime calls, with a message naming the rule it breaks. The
same guest unbroken passes every check.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dataflare.conformance import Status, render_text, run_checks
from support.guests import ROOT
from support.markers import require
from support.tools import missing

from conformance.conftest import EXAMPLES

SOURCE = ROOT / "tests" / "fixtures" / "guest_v0_2"
BUILT = ROOT / "build" / "test-components" / "v0_2"
FILTER = {"field": "status", "value": "active"}

CASES = {
    # (guest, rule): text batch-output's detail must hold
    ("json_filter", "bitmap"): "keep has 0 byte(s) for 1 record(s); one bit per record needs 1",
    ("json_filter", "errors"): "an error names record 0, but the batch has 0 record(s)",
    ("echo", "ends"): "values.ends decreases at record 1",
    ("echo", "count"): "values.ends has 0 entries for 1 record(s)",
}


@pytest.fixture(scope="module")
def contract_guests() -> Path:
    """Build (if stale) the test guest's json_filter and echo; their folder."""
    require("guests", "builds tests/fixtures/guest_v0_2")
    proc = subprocess.run(
        ["make", "-s", "-C", str(SOURCE)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        if "install it with" in output:
            missing(output)
        raise AssertionError(f"building tests/fixtures/guest_v0_2 failed:\n{output}")
    return BUILT


@pytest.mark.guests
@pytest.mark.parametrize(("guest", "rule"), list(CASES), ids=[f"{g}-{r}" for g, r in CASES])
def test_each_broken_rule_fails_batch_output_first(contract_guests, guest, rule):
    params = {**(FILTER if guest == "json_filter" else {}), "break": rule}
    report = run_checks(contract_guests / f"{guest}.wasm", params=params, examples=EXAMPLES)
    shown = render_text(report)
    assert report.world_version == "0.2.0"
    assert report.failures[0] == "batch-output", shown
    assert CASES[guest, rule] in report.check("batch-output").detail, shown


@pytest.mark.guests
@pytest.mark.parametrize("guest", ["json_filter", "echo"])
def test_the_unbroken_guest_passes(contract_guests, guest):
    params = FILTER if guest == "json_filter" else {}
    report = run_checks(contract_guests / f"{guest}.wasm", params=params, examples=EXAMPLES)
    assert report.passed, render_text(report)
    assert report.check("batch-output").status is Status.PASS
