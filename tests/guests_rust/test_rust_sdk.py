"""The Rust SDK's canonical-ABI glue, end to end: exact round trips through a real component.

`echo` (guest-examples/rust/echo) returns each record unchanged, so any
layout mistake in lifting or lowering `record`, `list<record>`, results or
`plugin-error` shows up as a difference here. The unit tests behind
`make -C guest-examples/rust test` check the same layouts against a spec
calculator with a fake memory; this checks them against wasmtime.
"""

from __future__ import annotations

import subprocess

import pytest
from dataflare.errors import PluginError, plugin_error
from guests_rust.stock_host import StockGuest, outcome, raw_fields, to_wit
from guests_rust.strategies import INT64, metadata, raw_records
from hypothesis import given, settings
from hypothesis import strategies as st
from support.guests import ROOT, built_guest
from support.tools import missing


@pytest.fixture(scope="module")
def echo_path():
    return built_guest("rust", "echo")


@pytest.fixture(scope="module")
def echo(echo_path):
    return StockGuest(echo_path)


def test_cargo_unit_tests_pass():
    """Layout constants vs the spec calculator, fake-memory round trips, JSON rules."""
    proc = subprocess.run(
        ["make", "-s", "-C", str(ROOT / "guest-examples" / "rust"), "test"],
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 and "not found" in output and "install" in output:
        missing(output.strip())
    assert proc.returncode == 0, output
    assert "test result: ok" in output


@given(raw_records)
@settings(max_examples=60)
def test_one_record_round_trips_exactly(echo, rec):
    out = echo.call("transform", to_wit(rec))
    assert raw_fields(out) == (rec[0], rec[1], rec[2], [tuple(p) for p in rec[3]])


@given(st.lists(raw_records, max_size=6))
@settings(max_examples=40)
def test_batches_round_trip_exactly_and_in_order(echo, recs):
    outs = echo.raw("transform-batch", [to_wit(r) for r in recs])
    assert [raw_fields(o) for o in outs] == [
        (r[0], r[1], r[2], [tuple(p) for p in r[3]]) for r in recs
    ]


@pytest.mark.parametrize("timestamp", [None, 0, -1, 1, -(2**63), 2**63 - 1, 2**32, -(2**31) - 1])
@pytest.mark.parametrize("key", [None, b"", b"\x00", bytes(range(256))])
def test_option_fields_keep_none_apart_from_empty(echo, key, timestamp):
    out = echo.call("transform", to_wit((key, b"", timestamp, [])))
    assert (out.key, out.value, out.timestamp, list(out.metadata)) == (key, b"", timestamp, [])


def test_large_values_and_many_pairs_round_trip(echo):
    value = bytes(range(256)) * 1024 + b"tail"  # 256 KiB + 4: not a multiple of 8
    pairs = [(f"k{i}", "ü" * (i % 7)) for i in range(300)] + [("k1", "repeat")]
    out = echo.call("transform", to_wit((b"key", value, 2**63 - 1, pairs)))
    assert raw_fields(out) == (b"key", value, 2**63 - 1, pairs)


@pytest.mark.parametrize("kind", ["processing", "configuration", "io", "serialization"])
def test_every_error_case_lowers_with_its_message(echo, kind):
    message = "näh 😀 " + kind
    rec = to_wit((None, message.encode(), None, [("echo.fail", kind)]))
    with pytest.raises(PluginError) as info:
        echo.call("transform", rec)
    assert info.value == plugin_error(kind, message)
    ok = to_wit((b"k", b"v", 5, [("a", "b")]))
    outs = [outcome(o) for o in echo.raw("transform-batch", [ok, rec, ok])]
    assert outs[1] == plugin_error(kind, message)
    assert raw_fields(outs[0]) == raw_fields(outs[2]) == (b"k", b"v", 5, [("a", "b")])


def test_empty_batch(echo):
    assert echo.raw("transform-batch", []) == []


def test_log_import_reaches_the_host(echo_path):
    guest = StockGuest(echo_path)
    guest.call("transform", to_wit((None, b"", None, [("echo.log", "hello ✓")])))
    assert guest.logs == [("info", "hello ✓")]


def test_describe_lowers_plugin_info(echo):
    info = echo.raw("describe")
    assert (info.name, info.version, info.kind) == ("echo", "0.1.0", "transform")
    assert info.description == "Return each record unchanged."
    params = [(p.name, p.description, p.required, p.default) for p in info.params]
    assert params == [
        ("note", "ignored; shows a default", False, "dëfault"),
        ("other", "ignored; no default", False, None),
        ("tag", "any text; shows a required parameter", True, None),
    ]


@given(metadata)
@settings(max_examples=30)
def test_configure_lifts_config_pairs(echo_path, pairs):
    guest = StockGuest(echo_path)
    pairs = [(k, v) for k, v in pairs if k != "fail"]
    assert guest.raw("configure", [*pairs, ("tag", "x")]) is None
    missing_tag = outcome(guest.raw("configure", [(k, v) for k, v in pairs if k != "tag"]))
    assert missing_tag == plugin_error("configuration", "missing required parameter 'tag'")
    failing = outcome(guest.raw("configure", [*pairs, ("fail", "bad ü")]))
    assert failing == plugin_error("configuration", "bad ü")


@given(st.lists(INT64, min_size=1, max_size=20))
@settings(max_examples=20)
def test_repeated_calls_free_and_reuse_memory(echo, stamps):
    # Post-return frees what each call handed out; many calls must keep working.
    for t in stamps:
        for _ in range(20):
            assert (
                echo.call("transform", to_wit((b"k", b"x" * 100, t, [("a", "b")]))).timestamp == t
            )


def test_post_return_frees_what_each_call_handed_out(echo_path):
    # 400 calls move ~100 MiB through a guest capped at 16 MiB of linear
    # memory: any buffer not freed at post-return (or any parameter not
    # taken over) would exhaust it and trap.
    guest = StockGuest(echo_path, memory_limit=16 << 20)
    big = "é" * (64 << 10)
    for i in range(200):
        out = guest.call("transform", to_wit((b"k", b"v", i, [("big", big)])))
        assert out.timestamp == i and out.metadata[0][1] == big
        outs = guest.raw("transform-batch", [to_wit((None, b"", i, [("big", big)]))] * 2)
        assert [o.timestamp for o in outs] == [i, i]
