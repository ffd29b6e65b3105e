"""Each Python guest, built from source and called through its adapter, against its native twin.

The guests re-implement the JSON rules on their own (host/dataflare/sdk/python),
so agreement here checks the written semantics, not shared code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import PluginError
from dataflare.model import Record
from dataflare.plugins.kinds import AggregatePlugin, AnyPlugin, FilterPlugin, TransformPlugin
from hypothesis import given, settings
from hypothesis import strategies as st
from plugins.strategies import FIELDS, json_values, record_lists

OpenGuest = Callable[[str], AnyPlugin]

# Every example makes a few guest calls (tens of microseconds to a few ms each).
guest_settings = settings(max_examples=100)

filter_values = st.one_of(
    st.sampled_from(["a@b.c", "EU", "1", "1.0", "true", "null", "", "[1,2]", '{"a":1}', "x y"]),
    st.text(max_size=6),
    json_values.map(json.dumps),
)


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except PluginError as exc:
        return exc


def one_by_one(call: Callable[[Record], Any], records: Sequence[Record]) -> list[Any]:
    return [outcome(lambda r=r: call(r)) for r in records]


@pytest.mark.slow
@guest_settings
@given(field=st.sampled_from(FIELDS), value=filter_values, records=record_lists)
def test_json_filter_guest_decides_like_native(
    open_guest: OpenGuest, field: str, value: str, records: list[Record]
) -> None:
    guest = open_guest("json_filter")
    assert isinstance(guest, FilterPlugin)
    native = JsonFilter()
    params = {"field": field, "value": value}
    guest.configure(params)
    native.configure(params)
    want = one_by_one(native.filter, records)
    assert guest.filter_batch(records) == want
    assert one_by_one(guest.filter, records) == want


@pytest.mark.slow
@guest_settings
@given(field=st.sampled_from(FIELDS), records=record_lists)
def test_mask_email_guest_transforms_like_native(
    open_guest: OpenGuest, field: str, records: list[Record]
) -> None:
    guest = open_guest("mask_email")
    assert isinstance(guest, TransformPlugin)
    native = MaskEmail()
    guest.configure({"field": field})
    native.configure({"field": field})
    want = one_by_one(native.transform, records)
    assert guest.transform_batch(records) == want
    assert one_by_one(guest.transform, records) == want


def fold_singly(plugin: AggregatePlugin, records: Sequence[Record]) -> tuple[bytes, list[Any]]:
    acc, outcomes = plugin.init(), []
    for record in records:
        try:
            acc = plugin.aggregate(acc, record)
            outcomes.append(None)
        except PluginError as exc:
            outcomes.append(exc)
    return acc, outcomes


count_sum_records = st.lists(
    st.one_of(
        record_lists.map(lambda rs: rs[0] if rs else Record(b"")),
        st.builds(
            lambda g, n: Record(f'{{"{g[0]}": {g[1]}, "{n[0]}": {n[1]}}}'.encode()),
            st.tuples(
                st.sampled_from(["email", "region", "é"]),
                st.sampled_from(
                    ['"a"', '"b"', "1", "null", "true", '"\\ud83d\\ude00"', '"\uff61"']
                ),
            ),
            st.tuples(
                st.sampled_from(["n", "email"]),
                st.sampled_from(
                    ["1", "2.5", "-0", "1e308", "1e-7", '"3"', "true", "12345678901234567"]
                ),
            ),
        ),
    ),
    max_size=12,
)


@pytest.mark.slow
@guest_settings
@given(
    group_by=st.sampled_from(["region", "email", "é"]),
    sum_field=st.sampled_from(["n", "email"]),
    records=count_sum_records,
    cut=st.integers(0, 12),
)
def test_count_sum_guest_folds_like_native(
    open_guest: OpenGuest, group_by: str, sum_field: str, records: list[Record], cut: int
) -> None:
    guest = open_guest("count_sum")
    assert isinstance(guest, AggregatePlugin)
    native = CountSum()
    params = {"group_by": group_by, "sum_field": sum_field}
    guest.configure(params)
    native.configure(params)
    assert guest.init() == native.init()

    want_acc, want_outcomes = fold_singly(native, records)
    assert native.aggregate_batch(native.init(), records) == (want_acc, want_outcomes)
    assert guest.aggregate_batch(guest.init(), records) == (want_acc, want_outcomes)
    assert fold_singly(guest, records) == (want_acc, want_outcomes)

    # Folding in two batches, and continuing each other's accumulators.
    half, first = guest.aggregate_batch(guest.init(), records[:cut])
    acc, second = native.aggregate_batch(half, records[cut:])
    assert (acc, first + second) == (want_acc, want_outcomes)

    want_emit = native.emit(want_acc)
    assert guest.emit(want_acc) == want_emit


# Doubles of every size and sign, so sums need partials, cancel, underflow and overflow.
awkward_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.2, 0.3, 1e16, -1e16, 1.0, 5e-324, 1.7976931348623157e308, -0.0]),
)


@guest_settings
@given(
    pairs=st.lists(st.tuples(st.sampled_from(["a", "b"]), awkward_numbers), max_size=10),
    cut=st.integers(0, 10),
)
def test_count_sum_guest_partials_and_merges_are_native_bytes(
    open_guest: OpenGuest, pairs: list[tuple[str, float]], cut: int
) -> None:
    guest = open_guest("count_sum")
    assert isinstance(guest, AggregatePlugin)
    native = CountSum()
    for plugin in (guest, native):
        plugin.configure({"group_by": "g", "sum_field": "n"})
    records = [Record(f'{{"g": "{g}", "n": {n!r}}}'.encode()) for g, n in pairs]
    want = native.aggregate_batch(native.init(), records)
    assert guest.aggregate_batch(guest.init(), records) == want
    assert guest.emit(want[0]) == native.emit(want[0])
    left, _ = native.aggregate_batch(native.init(), records[:cut])
    right, _ = native.aggregate_batch(native.init(), records[cut:])
    merged = outcome(lambda: native.merge(left, right))
    assert outcome(lambda: guest.merge(left, right)) == merged
    if not any(want[1]):  # no record skipped for overflow: the split emits what one fold does
        assert guest.emit(merged) == native.emit(want[0])


@pytest.mark.parametrize("depth", [899, 900, 901, 902, 5000, 100_000])
@pytest.mark.parametrize("shape", ["array", "object", "string", "unclosed"])
def test_nesting_limit_matches_native(open_guest: OpenGuest, shape: str, depth: int) -> None:
    value = {
        "array": b'{"a": ' + b"[" * depth + b"]" * depth + b"}",
        "object": b'{"a": 1, "b": ' + b'{"x": ' * depth + b"1" + b"}" * depth + b"}",
        "string": b'{"a": "' + b"[" * depth + b'"}',
        "unclosed": b'{"a": 1, "b": ' + b"[" * depth,
    }[shape]
    guest = open_guest("json_filter")
    native = JsonFilter()
    guest.configure({"field": "a", "value": "1"})
    native.configure({"field": "a", "value": "1"})
    records = [Record(value)]
    assert guest.filter_batch(records) == one_by_one(native.filter, records)
