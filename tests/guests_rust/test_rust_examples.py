"""The Rust example plugins (0.2.0) decide exactly as their native twins in `dataflare.builtin`."""

from __future__ import annotations

import dataclasses

import pytest
from dataflare.model import Record
from guests_rust.strategies import FIELDS, metadata, record_values
from guests_rust.twins import check_count_sum, check_json_filter, check_mask_email, outcome
from guests_rust.wit02 import Guest02, from_batch, keeps, plain, to_batch, unwrap
from hypothesis import given, settings
from hypothesis import strategies as st
from support.guests import built_guest

LANG = "rust"

match_values = st.sampled_from(
    ["active", "1", "1.0", "true", "null", '{"a":[1]}', "", "😀é@ß", "[]", "a@b.c", "{"]
)
records = st.builds(
    lambda v, k, t, m: Record(value=v, key=k, timestamp=t, metadata=dict(m)),
    record_values,
    st.none() | st.binary(max_size=8),
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    metadata,
)


@pytest.fixture(scope="module")
def paths():
    return {n: built_guest(LANG, n) for n in ("json_filter", "mask_email", "count_sum")}


@given(st.sampled_from(FIELDS), match_values, st.lists(records, max_size=8))
@settings(max_examples=80)
def test_json_filter_matches_native(paths, field, value, recs):
    check_json_filter(paths["json_filter"], {"field": field, "value": value}, recs)


@given(st.sampled_from([*FIELDS, "missing"]), st.lists(records, max_size=8))
@settings(max_examples=80)
def test_mask_email_matches_native(paths, field, recs):
    check_mask_email(paths["mask_email"], {"field": field}, recs)


@given(st.sampled_from(FIELDS), st.sampled_from(FIELDS), st.lists(records, max_size=10))
@settings(max_examples=80)
def test_count_sum_matches_native(paths, group_by, sum_field, recs):
    check_count_sum(paths["count_sum"], {"group_by": group_by, "sum_field": sum_field}, recs)


def test_count_sum_groups_mixed_types_like_native(paths):
    values = [
        b'{"g": "1", "n": 2}',
        b'{"g": 1, "n": 3.5}',
        b'{"g": null, "n": -0.0}',
        b'{"g": [1, "x"], "n": 1e308}',
        b'{"g": [1, "x"], "n": 1e308}',
        b'{"g": "\xef\xbf\xbf", "n": 1}',
        b'{"g": "\xf0\x9f\x98\x80", "n": 1}',
        b'{"g": true, "n": true}',
    ]
    check_count_sum(
        paths["count_sum"], {"group_by": "g", "sum_field": "n"}, [Record(value=v) for v in values]
    )


# Doubles of every size and sign, so sums need partials, cancel, underflow and overflow.
awkward_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.2, 0.3, 1e16, -1e16, 1.0, 5e-324, 1.7976931348623157e308, -0.0]),
)


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), awkward_numbers).map(
            lambda gn: Record(
                value=b'{"g": "%s", "n": %s}' % (gn[0].encode(), repr(gn[1]).encode())
            )
        ),
        max_size=10,
    )
)
@settings(max_examples=150)
def test_count_sum_exact_sums_are_the_native_bytes(paths, recs):
    # Accumulators with partials, merges and emits: the same bytes as native.
    check_count_sum(paths["count_sum"], {"group_by": "g", "sum_field": "n"}, recs)


@pytest.mark.slow
def test_one_mib_values_agree(paths):
    big = b'{"email": "' + b"x" * (1 << 20) + b'@example.com", "status": "active"}'
    not_json = b"{" * (1 << 20)
    recs = [Record(value=big), Record(value=not_json)]
    check_json_filter(paths["json_filter"], {"field": "status", "value": "active"}, recs)
    check_mask_email(paths["mask_email"], {"field": "email"}, recs)


def test_configuration_errors_match_native(paths):
    from dataflare.builtin.json_filter import JsonFilter
    from dataflare.errors import ConfigurationError

    for params in ({"field": "a"}, {"field": "a", "value": "b", "extra": "c"}, {}):
        native = JsonFilter()
        with pytest.raises(ConfigurationError) as info:
            native.configure(params)
        guest = Guest02(paths["json_filter"], "filter")
        assert outcome(guest.world.configure(list(params.items()))) == info.value


def test_describe_matches_native(paths):
    from dataflare.builtin.count_sum import CountSum
    from dataflare.builtin.json_filter import JsonFilter
    from dataflare.builtin.mask_email import MaskEmail

    for name, world, native in (
        ("json_filter", "filter", JsonFilter),
        ("mask_email", "transform", MaskEmail),
        ("count_sum", "aggregate", CountSum),
    ):
        want = native().describe()
        got = Guest02(paths[name], world).world.describe()
        assert (got.name, got.version, got.kind.value, got.description) == (
            want.name,
            want.version,
            want.kind.value,
            want.description,
        )
        assert [(p.name, p.description, p.required, p.default) for p in got.params] == [
            (p.name, p.description, p.required, p.default) for p in want.params
        ]


def test_count_sum_merges_exactly_where_plain_float_sums_would_not(paths):
    # 0.1 + 0.2 + 0.3 in order is 0.6000000000000001; (0.1) merged with
    # (0.2 + 0.3) is 0.6: only exact sums make every split emit the same.
    guest = Guest02(paths["count_sum"], "aggregate")
    guest.configure({"group_by": "g", "sum_field": "n"})
    world = guest.world
    recs = [Record(value=b'{"g": "x", "n": %s}' % n) for n in (b"0.1", b"0.2", b"0.3")]
    whole = world.aggregate_batch(world.init(), to_batch(recs)).accumulator
    left = world.aggregate_batch(world.init(), to_batch(recs[:1])).accumulator
    right = world.aggregate_batch(world.init(), to_batch(recs[1:])).accumulator
    merged = unwrap(world.merge(left, right))
    want = [Record(key=b"x", value=b'{"count":3,"group":"x","sum":0.6}')]
    assert from_batch(unwrap(world.emit(merged))) == from_batch(unwrap(world.emit(whole))) == want
    assert unwrap(world.merge(world.init(), whole)) == whole
    assert outcome(world.merge(b"[]", whole)).kind == "serialization"


def test_count_sum_accumulator_is_the_native_one_when_sums_are_exact(paths):
    from dataflare.builtin.count_sum import CountSum

    recs = [Record(value=b'{"g": %d, "n": %d}' % (i % 3, i)) for i in range(20)]
    native = CountSum()
    native.configure({"group_by": "g", "sum_field": "n"})
    guest = Guest02(paths["count_sum"], "aggregate")
    guest.configure({"group_by": "g", "sum_field": "n"})
    acc = guest.world.aggregate_batch(guest.world.init(), to_batch(recs)).accumulator
    assert acc == native.aggregate_batch(native.init(), recs)[0]


def _past_the_text(batch):
    values = dataclasses.replace(batch.values, ends=[*batch.values.ends[:-1], 10**6])
    return dataclasses.replace(batch, values=values)


def test_every_batch_export_fails_each_record_of_a_malformed_batch(paths, tmp_path):
    # Each kind's batch glue checks offsets before plugin code runs: every
    # record gets a serialization error and the instance keeps working.
    recs = [Record(value=b'{"g": "a", "n": 1, "status": "x"}')] * 3
    bad = _past_the_text(to_batch(recs))

    def failed(errors):
        return [(e.index, type(plain(e.error)).__name__) for e in errors]

    want = [(i, "SerializationError") for i in range(3)]
    flt = Guest02(paths["json_filter"], "filter")
    flt.configure({"field": "status", "value": "x"})
    out = flt.world.filter_batch(bad)
    assert failed(out.errors) == want and keeps(out.keep, 3) == [False] * 3
    assert keeps(flt.world.filter_batch(to_batch(recs)).keep, 3) == [True] * 3

    agg = Guest02(paths["count_sum"], "aggregate")
    agg.configure({"group_by": "g", "sum_field": "n"})
    fold = agg.world.aggregate_batch(b"{}", bad)
    assert failed(fold.errors) == want and fold.accumulator == b"{}"

    sink = Guest02(built_guest(LANG, "jsonl_sink"), "sink", preopen=(tmp_path, "/out"))
    sink.configure({"path": "/out/x.jsonl"})
    unwrap(sink.world.connect())
    assert failed(sink.world.write_batch(bad)) == want
    assert sink.world.write_batch(to_batch(recs)) == []
    unwrap(sink.world.close())
    assert (tmp_path / "x.jsonl").read_bytes() == (recs[0].value + b"\n") * 3
