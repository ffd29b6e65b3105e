"""Probes: outcomes instead of exceptions, fuel per call, traps classified, dead after a trap."""

from __future__ import annotations

import pytest
from dataflare._wit_v0_1.types import Record
from dataflare.conformance import Budget
from dataflare.conformance._harness import Refused, Returned, Subject, Trapped, classify_trap
from dataflare.conformance._static import check_world_and_imports
from dataflare.errors import GuestTrap, LimitExceeded
from support.guests import built_guest


def _subject(path, budget=None):
    _, _, loaded = check_world_and_imports(path, None)
    assert loaded is not None
    return Subject(loaded, budget or Budget())


@pytest.mark.parametrize(
    ("limit", "cause"), [("fuel", "fuel"), ("timeout", "timeout"), ("memory", "trap")]
)
def test_limits_are_classified_by_the_limit_not_the_message(limit, cause):
    # the message says nothing about the limit: only `.limit` can tell
    exc = LimitExceeded("plugin 'p' trapped: wasm trap: wasm `unreachable`", limit=limit, value=1)
    trap = classify_trap(exc, budget=1000, fuel=7)
    assert trap.cause == cause
    assert trap.fuel == 7
    if cause == "fuel":
        assert "1,000" in trap.message


def test_a_message_that_mentions_fuel_is_still_a_plain_trap():
    try:
        raise GuestTrap("guest trapped") from RuntimeError(
            "error while executing\nCaused by:\n    0: wasm trap: wasm `unreachable` instruction"
            "\n    1: all fuel consumed? interrupt?"
        )
    except GuestTrap as exc:
        trap = classify_trap(exc, budget=1000, fuel=7)
    assert trap.cause == "trap"
    assert trap.message == "wasm trap: wasm `unreachable` instruction"


def test_a_probe_returns_outcomes_counts_fuel_and_stays_dead_after_a_trap(broken_corpus):
    subject = _subject(broken_corpus / "trap_input.wasm")
    probe = subject.probe()
    kept = probe.call("filter", Record(None, b"x", 5000, []))
    assert kept == Returned(True)
    assert probe.fuel > 0
    trap = probe.call("filter", Record(None, b"x", -1, []))
    assert isinstance(trap, Trapped) and trap.cause == "trap"
    assert probe.call("filter", Record(None, b"x", 5000, [])) is trap


@pytest.mark.guests
def test_plugin_errors_come_back_as_refused():
    subject = _subject(built_guest("rust", "json_filter"))
    probe = subject.probe(config=[("field", "a"), ("value", "b")])
    out = probe.call("filter", Record(None, b"not json", None, []))
    assert isinstance(out, Refused) and out.kind == "serialization"
    missing = subject.probe(configure=False).call("configure", [("field", "a")])
    assert isinstance(missing, Refused) and missing.kind == "configuration"


def test_the_wall_clock_limit_stops_a_loop_that_fuel_would_allow(broken_corpus):
    budget = Budget(fuel_base=10**15, timeout=0.2)
    probe = _subject(broken_corpus / "loop_forever.wasm", budget).probe()
    out = probe.call("filter", Record(None, b"", None, []))
    assert isinstance(out, Trapped) and out.cause == "timeout"


@pytest.mark.guests
def test_a_memory_limit_below_the_initial_memory_fails_instantiation():
    subject = _subject(built_guest("rust", "json_filter"))
    probe = subject.probe(memory_bytes=64 * 1024, configure=False)
    out = probe.call("describe")
    assert isinstance(out, Trapped) and out.cause == "instantiate"
