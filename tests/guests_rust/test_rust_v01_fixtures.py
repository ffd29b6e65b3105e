"""The committed 0.1.0 builds of the Rust examples agree with their 0.2.0 builds.

The 0.1 fixture is called with 0.1 shapes (`list<record>` batches, through
wasmtime's stock conversion); the 0.2 build with a columnar batch through
the generated bindings. Same records, same outcomes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dataflare.model import Record
from guests_rust.stock_host import StockGuest, from_wit, outcomes
from guests_rust.stock_host import to_wit as to_wit_v01
from guests_rust.strategies import FIELDS, metadata, record_values
from guests_rust.twins import outcome, to_wit
from guests_rust.wit02 import Guest02, from_batch, keeps, plain, to_batch, unwrap
from hypothesis import given, settings
from hypothesis import strategies as st
from support.guests import ROOT, built_guest

V01 = ROOT / "tests" / "fixtures" / "v0_1"  # <example>.rust.wasm, see its README
NAMES = ("count_sum", "echo", "gen_source", "json_filter", "jsonl_sink", "mask_email")

records = st.builds(
    lambda v, k, t, m: Record(value=v, key=k, timestamp=t, metadata=dict(m)),
    record_values,
    st.none() | st.binary(max_size=8),
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    metadata,
)


def _package(path: Path) -> str:
    wit = subprocess.run(
        ["wasm-tools", "component", "wit", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return "0.1.0" if "dataflare:plugin/types@0.1.0" in wit else "other"


@pytest.mark.parametrize("name", NAMES)
def test_fixtures_are_0_1_components(name):
    assert _package(V01 / f"{name}.rust.wasm") == "0.1.0"


@pytest.fixture(scope="module")
def builds():
    return {n: built_guest("rust", n) for n in ("json_filter", "mask_email", "echo")}


def _errors(errors):
    return {e.index: plain(e.error) for e in errors}


@given(
    st.sampled_from(FIELDS),
    st.sampled_from(["active", "1", "a@b.c"]),
    st.lists(records, max_size=8),
)
@settings(max_examples=40)
def test_json_filter_0_1_and_0_2_decide_alike(builds, field, value, recs):
    params = {"field": field, "value": value}
    old = StockGuest(V01 / "json_filter.rust.wasm")
    old.configure(params)
    want = outcomes(old.raw("filter-batch", [to_wit_v01(r) for r in recs]))
    new = Guest02(builds["json_filter"], "filter")
    new.configure(params)
    out = new.world.filter_batch(to_batch(recs))
    failed, bits = _errors(out.errors), keeps(out.keep, len(recs))
    assert [failed.get(i, bits[i]) for i in range(len(recs))] == want
    assert [outcome(new.world.filter(to_wit(r))) for r in recs] == want


@given(st.sampled_from([*FIELDS, "missing"]), st.lists(records, max_size=8))
@settings(max_examples=40)
def test_mask_email_0_1_and_0_2_transform_alike(builds, field, recs):
    old = StockGuest(V01 / "mask_email.rust.wasm")
    old.configure({"field": field})
    want = [
        o if isinstance(o, Exception) else from_wit(o)
        for o in outcomes(old.raw("transform-batch", [to_wit_v01(r) for r in recs]))
    ]
    new = Guest02(builds["mask_email"], "transform")
    new.configure({"field": field})
    out = new.world.transform_batch(to_batch(recs))
    failed, produced = _errors(out.errors), from_batch(out.records)
    assert [failed.get(i, produced[i]) for i in range(len(recs))] == want


def test_echo_0_1_and_0_2_round_trip_alike(builds):
    recs = [
        Record(value=b"\xff\x00", key=b"k", timestamp=-1, metadata={"a": "1"}),
        Record(value=b""),
    ]
    old = StockGuest(V01 / "echo.rust.wasm")
    old_out = [from_wit(o) for o in old.raw("transform-batch", [to_wit_v01(r) for r in recs])]
    new = Guest02(builds["echo"], "transform").world
    assert from_batch(new.transform_batch(to_batch(recs)).records) == old_out == recs
    assert from_wit(unwrap(new.transform(to_wit(recs[0])))) == old_out[0]
