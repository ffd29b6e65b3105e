"""The 0.2 adapters over real components (tests/fixtures/guest_v0_2): columns, records, bounds."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pytest
from dataflare.columns import from_records, to_records
from dataflare.errors import GuestContractError, LimitExceeded, RecordTooLarge
from dataflare.model import PluginKind, Record
from dataflare.plugins.wasm import load_wasm_plugin
from dataflare.plugins.wasm_columns import WasmColumnsFilter, WasmColumnsTransform
from dataflare.runtime.limits import Limits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.guests import built_v0_2_guest

from plugins.test_wit_columns import batches, records

pytestmark = pytest.mark.guests
settings_ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def json_filter() -> Iterator[WasmColumnsFilter]:
    plugin = load_wasm_plugin(built_v0_2_guest("json_filter"), PluginKind.FILTER)
    assert isinstance(plugin, WasmColumnsFilter)
    plugin.configure({"field": "a", "value": "1"})
    yield plugin
    plugin.close()


@pytest.fixture(scope="module")
def echo() -> Iterator[WasmColumnsTransform]:
    plugin = load_wasm_plugin(built_v0_2_guest("echo"), PluginKind.TRANSFORM)
    assert isinstance(plugin, WasmColumnsTransform)
    plugin.configure({})
    yield plugin
    plugin.close()


json_values = st.one_of(
    st.builds(lambda v: json.dumps({"a": v}).encode(), st.integers(0, 2) | st.text(max_size=3)),
    st.sampled_from([b"nope", b"[1]", b"\xff", b'{"a":1}', b'{"b":1}']),
)


@st.composite
def json_batches(draw: st.DrawFn) -> list[Record]:
    values = draw(st.lists(json_values, max_size=20))
    return [Record(value=v, metadata=draw(st.sampled_from([{}, {"m": "é"}]))) for v in values]


@settings_
@given(json_batches(), st.integers(1, 64))
def test_a_columnar_filter_call_decides_as_the_records_one_by_one(
    json_filter: WasmColumnsFilter, recs: list[Record], bound: int
) -> None:
    json_filter.max_call_bytes = bound  # small bounds cut the batch into many calls
    try:
        result = json_filter.filter_columns(from_records(recs))
        by_record = json_filter.filter_batch(recs)
    finally:
        json_filter.max_call_bytes = 1 << 25
    assert len(result.keep) == len(recs) == len(by_record)
    for i, record in enumerate(recs):
        if len(record.value) > bound:
            assert isinstance(result.errors[i], RecordTooLarge)
            assert isinstance(by_record[i], RecordTooLarge)
            continue
        try:
            want: object = json_filter.filter(record)
        except Exception as exc:
            want = exc
        got = result.errors.get(i, result.keep[i].as_py())
        assert repr(got) == repr(want) == repr(by_record[i])
        if i in result.errors:
            assert result.keep[i].as_py() is False


@settings_
@given(batches(), st.integers(1, 80))
def test_an_echo_returns_every_batch_as_it_was(
    echo: WasmColumnsTransform, batch: pa.RecordBatch, bound: int
) -> None:
    echo.max_call_bytes = bound
    try:
        result = echo.transform_columns(batch)
    finally:
        echo.max_call_bytes = 1 << 24
    expected = to_records(batch)
    got = to_records(result.batch)
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        if e.value.startswith(b"fail"):
            assert result.errors[i].kind == "processing"
        elif len(e.value) + len(e.key or b"") > bound:
            assert isinstance(result.errors[i], RecordTooLarge)
        else:
            assert i not in result.errors
            assert g == e


@settings_
@given(st.lists(records, max_size=8))
def test_the_record_protocol_echoes_records(echo: WasmColumnsTransform, recs: list[Record]) -> None:
    for record, out in zip(recs, echo.transform_batch(recs), strict=True):
        if record.value.startswith(b"fail"):
            assert getattr(out, "kind", None) == "processing"
        else:
            assert out == record


def test_1024_records_of_16_kib_cross_in_one_call(echo: WasmColumnsTransform) -> None:
    values = [bytes([65 + i % 26]) * (16 * 1024) for i in range(1024)]
    batch = from_records([Record(value=v) for v in values])
    calls = echo.instance.instantiations, echo.instance.traps
    result = echo.transform_columns(batch)
    assert not result.errors
    assert result.batch.column(1).to_pylist() == values
    assert (echo.instance.instantiations, echo.instance.traps) == calls


def test_the_0_2_call_bound_is_far_above_the_0_1_one(echo: WasmColumnsTransform) -> None:
    # 0.1 moved at most 1 MiB per transform call at the default memory; 0.2 moves a string.
    assert echo.max_call_bytes >= 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("bitmap", "the keep bitmap has 0 bytes for 3 records (needs 1)"),
        ("errors", "errors: index 3 is out of range for 3 records"),
    ],
)
def test_a_broken_filter_answer_is_refused_naming_the_plugin(rule: str, message: str) -> None:
    plugin = load_wasm_plugin(built_v0_2_guest("json_filter"), name="broken", stage="f1")
    plugin.configure({"field": "a", "value": "1", "break": rule})
    recs = [Record(value=b'{"a":1}'), Record(value=b"{}"), Record(value=b"x")]
    with pytest.raises(GuestContractError) as info:
        plugin.filter_batch(recs)
    assert str(info.value) == (f"plugin 'broken' (stage 'f1') broke the batch contract: {message}")
    plugin.close()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("ends", "values: the last end offset is 1, but the text has 3 bytes"),
        ("count", "returned a batch of 1 records for 2 records"),
    ],
)
def test_a_broken_transform_answer_is_refused(rule: str, message: str) -> None:
    plugin = load_wasm_plugin(built_v0_2_guest("echo"), name="broken")
    plugin.configure({"break": rule})
    with pytest.raises(GuestContractError, match=message):
        plugin.transform_batch([Record(value=b"v"), Record(value=b"vv")])
    plugin.close()


def test_a_malformed_metadata_column_from_a_guest_is_refused_naming_the_plugin() -> None:
    plugin = load_wasm_plugin(built_v0_2_guest("echo"), name="broken", stage="t1")
    plugin.configure({"break": "metadata"})
    recs = [Record(value=b"v", metadata={"a": "1", "é": "2"}), Record(value=b"w")]
    with pytest.raises(GuestContractError) as info:
        plugin.transform_columns(from_records(recs))
    assert str(info.value) == (
        "plugin 'broken' (stage 't1') broke the batch contract:"
        " metadata: 2 records but 1 names and 2 values (one each per pair)"
    )
    plugin.close()


def test_metadata_that_is_not_utf8_fails_only_its_record_through_a_real_guest(
    echo: WasmColumnsTransform,
) -> None:
    recs = [
        Record(value=b"a", metadata={"bad": "\udcff"}),
        Record(value=b"b", metadata={"ok": "é" * 40, "": ""}),
    ]
    out = echo.transform_batch(recs)
    assert getattr(out[0], "kind", None) == "serialization"
    assert "metadata 'bad' is not valid UTF-8" in str(out[0])
    assert out[1] == recs[1]


def test_max_record_bytes_refuses_big_outputs_per_record() -> None:
    plugin = load_wasm_plugin(built_v0_2_guest("echo"), max_record_bytes=4)
    plugin.configure({})
    out = plugin.transform_batch([Record(value=b"1234"), Record(value=b"12345")])
    assert out[0] == Record(value=b"1234")
    assert isinstance(out[1], RecordTooLarge) and "max_record_bytes=4" in str(out[1])
    plugin.close()


def test_fuel_per_record_still_bounds_0_2_batch_calls() -> None:
    plugin = load_wasm_plugin(
        built_v0_2_guest("json_filter"), limits=Limits(fuel_per_call=10**8), fuel_per_record=20
    )
    plugin.configure({"field": "a", "value": "1"})
    with pytest.raises(LimitExceeded) as info:
        plugin.filter_batch([Record(value=b'{"a":1}')] * 100)
    assert info.value.limit == "fuel" and info.value.value == 2000
    assert plugin.describe().name == "json_filter_v0_2"  # a fresh instance
    plugin.close()


def test_a_pool_of_0_2_members_splits_columnar_calls(json_filter: WasmColumnsFilter) -> None:
    from dataflare.runtime.pool import PooledPlugin

    def make() -> WasmColumnsFilter:
        plugin = load_wasm_plugin(built_v0_2_guest("json_filter"), PluginKind.FILTER)
        assert isinstance(plugin, WasmColumnsFilter)
        return plugin

    recs = [Record(value=json.dumps({"a": i % 3}).encode()) for i in range(300)] + [
        Record(value=b"nope")
    ]
    batch = from_records(recs)
    pooled = PooledPlugin(make, 3, stage="f")
    try:
        pooled.configure({"field": "a", "value": "1"})
        got = pooled.filter_columns(batch)
        want = json_filter.filter_columns(batch)
        assert got.keep.to_pylist() == want.keep.to_pylist()
        assert list(got.errors) == list(want.errors) == [300]
        assert sum(m.instance.instantiations for m in pooled.pool.members) == 3
    finally:
        pooled.close()
