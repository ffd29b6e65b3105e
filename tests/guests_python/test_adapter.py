"""The WASM adapters on the Python guests: description, configuration, logging, traps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import ConfigurationError, GuestTrap, WorldMismatchError
from dataflare.model import PluginKind, Record
from dataflare.plugins.kinds import AnyPlugin
from dataflare.plugins.wasm import load_wasm_plugin
from dataflare.plugins.wasm_columns import (
    WasmColumnsAggregate,
    WasmColumnsFilter,
    WasmColumnsTransform,
)
from dataflare.plugins.wit_records import from_wit_record, to_wit_record
from dataflare.runtime.limits import Limits
from hypothesis import given
from plugins.strategies import records

OpenGuest = Callable[[str], AnyPlugin]
NATIVE = {"json_filter": JsonFilter, "mask_email": MaskEmail, "count_sum": CountSum}
# the examples target dataflare:plugin@0.2.0, so they load through the columnar adapters
ADAPTER = {
    "json_filter": WasmColumnsFilter,
    "mask_email": WasmColumnsTransform,
    "count_sum": WasmColumnsAggregate,
}


@given(records)
def test_records_convert_losslessly(record: Record) -> None:
    assert from_wit_record(to_wit_record(record)) == record


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_guest_describes_itself_like_its_twin(open_guest: OpenGuest, name: str) -> None:
    guest = open_guest(name)
    assert type(guest) is ADAPTER[name]
    assert guest.describe() == NATIVE[name]().describe()


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("json_filter", {"field": "a"}),
        ("json_filter", {"value": "a"}),
        ("json_filter", {"field": "a", "value": "b", "colour": "red", "answer": "42"}),
        ("mask_email", {"mail": "x"}),
        ("count_sum", {}),
        ("count_sum", {"group_by": "g"}),
    ],
)
def test_configuration_errors_match_native(
    open_guest: OpenGuest, name: str, config: dict[str, str]
) -> None:
    with pytest.raises(ConfigurationError) as native:
        NATIVE[name]().configure(config)
    with pytest.raises(ConfigurationError) as guest:
        open_guest(name).configure(config)
    assert guest.value == native.value


def test_using_an_unconfigured_guest_is_a_configuration_error(open_guest: OpenGuest) -> None:
    guest = open_guest("json_filter")
    assert isinstance(guest, WasmColumnsFilter)
    with pytest.raises(ConfigurationError) as info:
        guest.filter(Record(b"{}"))
    assert info.value == ConfigurationError("plugin 'json_filter': parameter 'field' is not set")


def test_guest_logs_through_the_host_at_debug(
    open_guest: OpenGuest, caplog: pytest.LogCaptureFixture
) -> None:
    guest = open_guest("mask_email")
    assert isinstance(guest, WasmColumnsTransform)
    with caplog.at_level(logging.DEBUG, logger="dataflare.plugin"):
        guest.configure({})
        guest.transform_batch([Record(b"{}"), Record(b"[]")])
    lines = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert (
        "dataflare.plugin.mask_email",
        logging.DEBUG,
        "mask_email: masking field 'email'",
    ) in lines
    assert ("dataflare.plugin.mask_email", logging.DEBUG, "mask_email: batch of 2 records") in lines


def test_after_a_trap_the_fresh_instance_is_configured_again(
    guest_path: Callable[[str], Path],
) -> None:
    # Enough fuel for a few records per call, far too little for thousands.
    guest = load_wasm_plugin(
        guest_path("json_filter"), "filter", limits=Limits(fuel_per_call=10_000_000)
    )
    try:
        assert isinstance(guest, WasmColumnsFilter)
        guest.configure({"field": "a", "value": "1"})
        assert guest.filter(Record(b'{"a": 1}')) is True
        with pytest.raises(GuestTrap):
            guest.filter_batch([Record(b'{"a": 1, "b": [1, 2, 3, 4, 5, 6, 7, 8]}')] * 5000)
        assert guest.instance.traps == 1
        assert guest.filter(Record(b'{"a": 1}')) is True
        assert guest.filter(Record(b'{"a": 2}')) is False
        assert guest.instance.instantiations == 2
    finally:
        guest.close()


def test_kind_is_checked_or_told_from_the_component(guest_path: Callable[[str], Path]) -> None:
    with pytest.raises(WorldMismatchError, match="transform"):
        load_wasm_plugin(guest_path("json_filter"), PluginKind.TRANSFORM)
    told = load_wasm_plugin(guest_path("count_sum"))
    try:
        assert isinstance(told, WasmColumnsAggregate)
    finally:
        told.close()


def test_close_is_idempotent_and_final(open_guest: OpenGuest) -> None:
    guest = open_guest("json_filter")
    guest.close()
    guest.close()
    with pytest.raises(ValueError, match="closed"):
        guest.describe()
