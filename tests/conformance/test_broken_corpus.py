"""Each deliberately broken component is flagged by the check named for its defect.

The corpus lives in tests/conformance/broken (Rust on the dataflare-guest
SDK) and is built from source by the `broken_corpus` fixture. Every case
also asserts that the world check passes unless the defect is about the
world, so a diagnosis is not an accident of an earlier failure.
"""

from __future__ import annotations

import pytest
from dataflare.cli import main
from dataflare.conformance import Status, render_text, run_checks

from conformance.conftest import EXAMPLES

CASES = {
    # name: (expected failing check, params, text the detail or input must contain)
    "trap_input": ("no-trap", {}, "timestamp=-1"),
    "loop_forever": ("resource-budget", {}, "fuel budget"),
    "alloc_unbounded": ("resource-budget", {}, "memory budget"),
    "missing_export": ("world", {}, "filter-batch"),
    "wrong_version": ("world", {}, "0.3.0"),
    "batch_length": ("batch-output", {}, "keep has 1 byte(s) for 0 record(s)"),
    "nondeterministic": ("determinism", {}, "second instance"),
    "ignores_configure": ("configure", {"field": "x"}, "without required parameter 'field'"),
    "undeclared_import": ("imports", {}, "acme:net/fetch"),
    # The Rust SDK fails calls after close itself, so the trap left is before connect.
    "close_trap": ("lifecycle", {}, "write before connect trapped"),
    "bad_fold": ("aggregate-fold", {}, "emit differs"),
    "bad_describe": ("describe", {}, "parameter names repeat: field"),
    "bad_restore": ("lifecycle", {}, "did not resume at the checkpoint"),
    # 0.2: merge drops `b`; batch ends decrease and overrun the text.
    "broken_merge": ("merge", {}, "folded apart and merged left to right"),
    "broken_offsets": ("batch-output", {}, "is past the end of values.text"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_component_is_flagged_by_the_right_check(broken_corpus, name):
    check, params, evidence = CASES[name]
    report = run_checks(broken_corpus / f"{name}.wasm", params=params, examples=EXAMPLES, seed=3)
    result = report.check(check)
    shown = render_text(report)
    assert result.status is Status.FAIL, shown
    assert not report.passed
    assert report.failures[0] == check, shown
    assert evidence in f"{result.detail} {result.input or ''}", shown
    if check not in ("world", "imports"):
        assert report.check("world").status is Status.PASS
        assert report.world_version == "0.2.0"  # the corpus is built on the 0.2 SDK


def test_an_unknown_version_is_refused_naming_the_supported_ones(broken_corpus):
    report = run_checks(broken_corpus / "wrong_version.wasm")
    assert report.world_version is None
    detail = report.check("world").detail
    assert "0.3.0" in detail and "0.1.x" in detail and "0.2.x" in detail, detail


def test_trap_input_reports_the_shrunk_input(broken_corpus):
    report = run_checks(broken_corpus / "trap_input.wasm", examples=EXAMPLES, seed=11)
    result = report.check("no-trap")
    assert result.input is not None
    # Shrinking leaves one record whose only interesting part is the timestamp.
    assert result.input.count("Record(") == 1
    assert "timestamp=-1," in result.input


def test_cli_exit_codes_and_wrong_world(broken_corpus, capsys):
    assert main(["check", str(broken_corpus / "batch_length.wasm"), "--examples", "3"]) == 1
    out = capsys.readouterr().out
    assert "batch" in out and "FAIL" in out and "smallest input: []" in out
    # A good filter checked as a sink: the world check names what is missing.
    report = run_checks(broken_corpus / "trap_input.wasm", world=_sink())
    assert report.failures == ("world",)
    assert "not sink" in report.check("world").detail
    assert all(c.status is Status.SKIP for c in report.checks[2:])


def _sink():
    from dataflare.model import PluginKind

    return PluginKind.SINK
