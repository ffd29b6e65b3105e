"""The native twins: the semantics written in their module docstrings, as tests."""

from __future__ import annotations

import itertools
import json
import math
import random
import struct
import subprocess
import sys
from collections.abc import Sequence

import pytest
from dataflare.builtin._json import (
    INVALID_JSON,
    MAX_DEPTH,
    NOT_AN_OBJECT,
    canonical,
    json_equal,
    parse_json,
    parse_object,
)
from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail, mask
from dataflare.columns import from_records
from dataflare.errors import (
    ConfigurationError,
    PluginError,
    ProcessingError,
    SerializationError,
)
from dataflare.model import Record
from dataflare.plugins import kinds
from hypothesis import assume, given
from hypothesis import strategies as st
from support.tools import require_tool

from plugins.strategies import (
    FIELDS,
    encoded,
    json_objects,
    json_values,
    record_lists,
    records,
    scalars,
    texts,
)


def json_filter(field: str, value: str) -> JsonFilter:
    plugin = JsonFilter()
    plugin.configure({"field": field, "value": value})
    return plugin


def count_sum(group_by: str = "g", sum_field: str = "n") -> CountSum:
    plugin = CountSum()
    plugin.configure({"group_by": group_by, "sum_field": sum_field})
    return plugin


def rec(value: bytes | str) -> Record:
    return Record(value.encode() if isinstance(value, str) else value)


# --- json_filter -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_param", "record_value", "keep"),
    [
        ("EU", '{"r": "EU"}', True),
        ("EU", '{"r": "eu"}', False),
        ('"EU"', '{"r": "EU"}', False),  # strings compare as raw text, never as JSON
        ("1", '{"r": "1"}', True),
        ("1", '{"r": 1}', True),
        ("1", '{"r": 1.0}', True),
        ("1", '{"r": 1e0}', True),
        ("1.0", '{"r": 1}', True),
        ("1", '{"r": true}', False),
        ("true", '{"r": true}', True),
        ("true", '{"r": 1}', False),
        ("null", '{"r": null}', True),
        ("0", '{"r": -0}', True),
        ("9007199254740993", '{"r": 9007199254740992}', True),  # both are the same double
        ('{"a":[1,{"b":null}],"c":"x"}', '{"r": {"c": "x", "a": [1.0, {"b": null}]}}', True),
        ('{"a":1}', '{"r": {"a": 1, "b": 2}}', False),
        ("[1,2]", '{"r": [2, 1]}', False),
        ("not json", '{"r": 5}', False),
        ("5", "{}", False),
        ("5", '{"x": 5}', False),
        ("2", '{"r": 1, "r": 2}', True),  # a repeated key keeps its last value
        ("", '{"r": ""}', True),
    ],
)
def test_json_filter_rules(value_param: str, record_value: str, keep: bool) -> None:
    assert json_filter("r", value_param).filter(rec(record_value)) is keep


@pytest.mark.parametrize(
    ("record_value", "message"),
    [
        (b"", INVALID_JSON),
        (b"NaN", INVALID_JSON),
        (b'{"r": Infinity}', INVALID_JSON),
        (b'{"r": 1e400}', INVALID_JSON),
        (b'{"r": ' + b"9" * 400 + b"}", INVALID_JSON),
        (b'{"r": "\\ud800"}', INVALID_JSON),
        (b'{"\\udfff": 1}', INVALID_JSON),
        (b"\xef\xbb\xbf{}", INVALID_JSON),
        (b'{"r": "\xff"}', INVALID_JSON),
        ('{"r": 1\u0661}'.encode(), INVALID_JSON),
        (b'{"r": 1} x', INVALID_JSON),
        (b"[1]", NOT_AN_OBJECT),
        (b'"{}"', NOT_AN_OBJECT),
        (b"null", NOT_AN_OBJECT),
        (b" 7 ", NOT_AN_OBJECT),
    ],
)
def test_json_filter_rejects_what_is_not_a_json_object(record_value: bytes, message: str) -> None:
    with pytest.raises(SerializationError) as info:
        json_filter("r", "1").filter(Record(record_value))
    assert info.value.message == message


def test_json_filter_accepts_surrounding_whitespace_and_escaped_pairs() -> None:
    plugin = json_filter("r", "\U0001f600")
    assert plugin.filter(rec(' \t\r\n{"r": "\\ud83d\\ude00"}\n'))


@given(json_objects, st.sampled_from(FIELDS))
def test_json_filter_drops_objects_without_the_field(obj: dict[str, object], field: str) -> None:
    obj.pop(field, None)
    assert json_filter(field, "x").filter(rec(json.dumps(obj))) is False


@given(json_objects, st.sampled_from(FIELDS), json_values)
def test_json_filter_keeps_a_field_equal_to_its_own_json(
    obj: dict[str, object], field: str, value: object
) -> None:
    obj[field] = value
    param = value if isinstance(value, str) else json.dumps(value)
    assume(not (isinstance(value, int) and abs(value) > 2**53))  # would not round-trip exactly
    assert json_filter(field, param).filter(rec(json.dumps(obj))) is True
    assert json_filter(field, param + " x").filter(rec(json.dumps(obj))) is False


@given(record_lists)
def test_json_filter_only_ever_answers_or_raises_serialization_error(
    batch: list[Record],
) -> None:
    for outcome in json_filter("email", "a@b.c").filter_batch(batch):
        assert isinstance(outcome, bool) or (
            isinstance(outcome, SerializationError)
            and outcome.message in (INVALID_JSON, NOT_AN_OBJECT)
        )


LONG_VALUES = st.sampled_from(
    [
        b'{"n": ' + b"9" * 400 + b"}",
        b'{"n": ' + b"9" * 300 + b"}",
        b'{"n": ' + b"1" * 309 + b"}",
        b'{"n": ' + b"[" * 901 + b"]" * 901 + b"}",
        b'{"n": ' + b"[" * 899 + b"]" * 899 + b"}",
        b'{"n": "' + b"x" * 400 + b'"}',
    ]
)


@given(
    st.lists(st.one_of(records, LONG_VALUES.map(Record)), max_size=12),
    st.sampled_from(FIELDS),
    st.one_of(scalars.map(lambda v: v if isinstance(v, str) else json.dumps(v)), texts),
)
def test_json_filter_columns_decide_as_record_by_record(
    batch: list[Record], field: str, value: str
) -> None:
    plugin = json_filter(field, value)
    result = plugin.filter_columns(from_records(batch))
    columnar = [result.errors.get(i, keep) for i, keep in enumerate(result.keep.to_pylist())]
    assert columnar == plugin.filter_batch(batch)


def test_json_filter_needs_both_params() -> None:
    with pytest.raises(ConfigurationError, match="missing required parameter 'value'"):
        JsonFilter().configure({"field": "r"})
    with pytest.raises(ConfigurationError, match="'field' is not set"):
        JsonFilter().filter(rec("{}"))


# --- mask_email ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("alice@example.com", "a***@example.com"),
        ("a@b", "a***@b"),
        ("@x", "***@x"),
        ("bob", "b***"),
        ("", "***"),
        ('"a@b"@c.d', '"***@c.d'),
        ("x@y@z", "x***@z"),
        ("\U0001f600mail@x", "\U0001f600***@x"),
        ("é@x", "é***@x"),
    ],
)
def test_mask_rules(address: str, masked: str) -> None:
    assert mask(address) == masked


@given(st.text())
def test_mask_keeps_domain_and_is_idempotent_with_a_local_part(address: str) -> None:
    at = address.rfind("@")
    local = address if at < 0 else address[:at]
    masked = mask(address)
    assert masked.endswith(address[at:] if at >= 0 else "***")
    assert masked.startswith(local[:1] + "***")
    if local:
        assert mask(masked) == masked


def test_mask_email_output_is_canonical_json() -> None:
    plugin = MaskEmail()
    plugin.configure({})
    out = plugin.transform(
        Record(b'{"z": 1.50, "email": "alice@ex.com", "a": [1e21, 1e-7, -0.0, "\\u0001"]}')
    )
    assert out.value == b'{"a":[1e+21,1e-7,0,"\\u0001"],"email":"a***@ex.com","z":1.5}'


@given(records, st.sampled_from(FIELDS))
def test_mask_email_properties(record: Record, field: str) -> None:
    plugin = MaskEmail()
    plugin.configure({"field": field})
    try:
        before = parse_object(record.value)
    except SerializationError as exc:
        with pytest.raises(SerializationError) as info:
            plugin.transform(record)
        assert info.value == exc
        return
    if field in before and not isinstance(before[field], str):
        with pytest.raises(ProcessingError, match=f'field "{field}" is not a string'):
            plugin.transform(record)
        return
    out = plugin.transform(record)
    after = parse_object(out.value)
    assert canonical(after) == out.value
    assert (out.key, out.timestamp, out.metadata) == (record.key, record.timestamp, record.metadata)
    if field in before:
        assert after[field] == mask(before[field])
    others_after = {k: v for k, v in after.items() if k != field}
    others_before = {k: v for k, v in before.items() if k != field}
    assert json_equal(others_after, others_before)
    address = before.get(field)
    if not isinstance(address, str) or (address.rfind("@") != 0 and address):
        assert plugin.transform(out) == out  # with a local part, masking twice changes nothing


def test_mask_email_default_field_is_email() -> None:
    plugin = MaskEmail()
    assert plugin.transform(rec('{"email": "jo@x"}')).value == b'{"email":"j***@x"}'


# --- count_sum -------------------------------------------------------------------------


def fold_one_by_one(plugin: CountSum, batch: Sequence[Record]) -> tuple[bytes, list[object]]:
    acc, outcomes = plugin.init(), []
    for record in batch:
        try:
            acc = plugin.aggregate(acc, record)
            outcomes.append(None)
        except PluginError as exc:
            outcomes.append(exc)
    return acc, outcomes


@st.composite
def grouped_records(draw: st.DrawFn) -> list[Record]:
    """Mostly well-formed count_sum input, with some bad records mixed in."""
    good = st.fixed_dictionaries(
        {
            "g": st.sampled_from(["a", "b", "\U0001f600", "\uff61", 1, None, True]),
            "n": st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False)),
        }
    )
    bad = st.one_of(
        st.fixed_dictionaries({"g": st.just("a")}),
        st.fixed_dictionaries({"n": st.just(1)}),
        st.fixed_dictionaries({"g": st.just("a"), "n": st.sampled_from(["1", True, None, [1]])}),
    )
    values = st.one_of(encoded(good), encoded(good), encoded(bad), records.map(lambda r: r.value))
    return [Record(v) for v in draw(st.lists(values, max_size=15))]


@given(grouped_records(), st.integers(0, 15))
def test_count_sum_batch_equals_one_by_one_and_splits_anywhere(
    batch: list[Record], cut: int
) -> None:
    plugin = count_sum()
    acc, outcomes = plugin.aggregate_batch(plugin.init(), batch)
    assert (acc, outcomes) == fold_one_by_one(plugin, batch)
    first, o1 = plugin.aggregate_batch(plugin.init(), batch[:cut])
    second, o2 = plugin.aggregate_batch(first, batch[cut:])
    assert (second, o1 + o2) == (acc, outcomes)


@given(grouped_records())
def test_count_sum_counts_and_sums_exactly(batch: list[Record]) -> None:
    plugin = count_sum()
    acc, outcomes = plugin.aggregate_batch(plugin.init(), batch)
    numbers: dict[str, list[float]] = {}
    for record, outcome in zip(batch, outcomes, strict=True):
        if outcome is not None:
            continue
        obj = json.loads(record.value)
        group = obj["g"] if isinstance(obj["g"], str) else json.dumps(obj["g"])
        numbers.setdefault(group, []).append(float(obj["n"]))
    emitted = plugin.emit(acc)
    got = {r.key.decode(): json.loads(r.value) for r in emitted if r.key is not None}
    assert set(got) == set(numbers)
    for group, xs in numbers.items():
        assert got[group] == {"count": len(xs), "group": group, "sum": math.fsum(xs)}
    assert [r.key for r in emitted] == sorted(
        (r.key for r in emitted if r.key is not None), key=lambda k: k.decode().encode("utf-16-be")
    )
    assert all(r.value == canonical(parse_json(r.value)) for r in emitted)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (b'{"n": 1}', ProcessingError('missing field "g"')),
        (b'{"g": "a"}', ProcessingError('missing field "n"')),
        (b'{"g": "a", "n": "1"}', ProcessingError('field "n" is not a number')),
        (b'{"g": "a", "n": true}', ProcessingError('field "n" is not a number')),
        (b"{", SerializationError(INVALID_JSON)),
        (b"[]", SerializationError(NOT_AN_OBJECT)),
    ],
)
def test_count_sum_errors(value: bytes, error: PluginError) -> None:
    plugin = count_sum()
    acc, outcomes = plugin.aggregate_batch(plugin.init(), [Record(value)])
    assert (acc, outcomes) == (b"{}", [error])


def test_count_sum_overflow_leaves_the_group_untouched() -> None:
    plugin = count_sum()
    batch = [rec('{"g": "a", "n": 1e308}')] * 2
    acc, outcomes = plugin.aggregate_batch(plugin.init(), batch)
    assert outcomes == [None, ProcessingError('sum of field "n" overflows')]
    assert acc == b'{"a":{"count":1,"sum":1e+308}}'


def test_count_sum_emit_shape_and_group_names() -> None:
    plugin = count_sum()
    batch = [rec(v) for v in ('{"g":"b","n":1}', '{"g":1,"n":2.5}', '{"g":"1","n":1}')]
    acc, _ = plugin.aggregate_batch(plugin.init(), batch)
    assert plugin.emit(acc) == [
        Record(key=b"1", value=b'{"count":2,"group":"1","sum":3.5}'),
        Record(key=b"b", value=b'{"count":1,"group":"b","sum":1}'),
    ]


@st.composite
def integer_records(draw: st.DrawFn) -> list[Record]:
    """count_sum input whose sums are exact in doubles (integers), bad records mixed in."""
    good = st.fixed_dictionaries(
        {"g": st.sampled_from(["a", "b", 1, None]), "n": st.integers(-(2**40), 2**40)}
    )
    bad = st.fixed_dictionaries({"g": st.just("a"), "n": st.just("1")})
    return [Record(v) for v in draw(st.lists(st.one_of(encoded(good), encoded(bad)), max_size=20))]


@given(integer_records(), st.lists(st.integers(0, 20), max_size=4))
def test_count_sum_folding_parts_then_merging_equals_one_fold(
    batch: list[Record], cuts: list[int]
) -> None:
    plugin = count_sum()
    whole, _ = plugin.aggregate_batch(plugin.init(), batch)
    bounds = [0, *sorted(cuts), len(batch)]
    merged = plugin.init()
    for start, stop in itertools.pairwise(bounds):
        part, _ = plugin.aggregate_batch(plugin.init(), batch[start:stop])
        merged = plugin.merge(merged, part)
    assert plugin.emit(merged) == plugin.emit(whole)
    assert merged == whole


def test_count_sum_merge_overflow_and_foreign_accumulators() -> None:
    plugin = count_sum()
    big = plugin.aggregate(plugin.init(), rec('{"g": "a", "n": 1e308}'))
    with pytest.raises(ProcessingError, match='sum of field "n" overflows'):
        plugin.merge(big, big)
    with pytest.raises(SerializationError, match="accumulator is not valid"):
        plugin.merge(big, b"nope")
    assert isinstance(plugin, kinds.AggregatePlugin)


@pytest.mark.parametrize("acc", [b"", b"[]", b'{"a": 1}', b'{"a": {"count": 1}}', b"nope"])
def test_count_sum_rejects_a_foreign_accumulator(acc: bytes) -> None:
    plugin = count_sum()
    with pytest.raises(SerializationError, match="accumulator is not valid"):
        plugin.emit(acc)
    _, outcomes = plugin.aggregate_batch(acc, [rec('{"g":"a","n":1}')])
    assert outcomes == [SerializationError("accumulator is not valid")]


# --- shared JSON rules and the registry ---------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_canonical_numbers_round_trip(x: float) -> None:
    text = canonical(x).decode()
    assert float(text) == x
    assert not text.endswith(".0")
    assert "e" not in text or abs(x) >= 1e21 or abs(x) < 1e-6


@given(json_values)
def test_canonical_is_stable_and_faithful(value: object) -> None:
    once = canonical(parse_json(json.dumps(value).encode()))
    assert canonical(parse_json(once)) == once
    assert json_equal(parse_json(once), parse_json(json.dumps(value).encode()))


@given(
    st.dictionaries(
        st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])),
        st.one_of(st.none(), st.booleans(), st.text()),
        max_size=5,
    )
)
def test_canonical_matches_sorted_compact_json_for_bmp_text(obj: dict[str, object]) -> None:
    assert (
        canonical(obj)
        == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_canonical_orders_keys_by_utf16_code_units() -> None:
    # U+FF61 sorts after U+1F600 by code point, before it by UTF-16 code unit.
    assert canonical({"\uff61": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uff61":1}'.encode()


def test_canonical_numbers_match_javascript() -> None:
    """ECMAScript formatting, checked against node itself on awkward doubles."""
    node = require_tool("node", "apt-get install nodejs")
    rng = random.Random(8785)
    doubles = [1.0, 0.1, 1e21, 1e20, 1e-6, 1e-7, 5e-324, 1.7976931348623157e308, 123e-20, 2.0**53]
    doubles += [
        struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)
    ]
    doubles += [rng.uniform(-1e6, 1e6) for _ in range(1000)]
    doubles = [d for d in doubles if math.isfinite(d)]
    script = (
        "const xs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(xs.map(x => JSON.stringify(x))));"
    )
    proc = subprocess.run(
        [node, "-e", script], input=json.dumps(doubles), capture_output=True, text=True, check=True
    )
    assert [canonical(d).decode() for d in doubles] == json.loads(proc.stdout)


def test_twins_satisfy_their_protocols() -> None:
    assert isinstance(JsonFilter(), kinds.FilterPlugin)
    assert isinstance(MaskEmail(), kinds.TransformPlugin)
    assert isinstance(CountSum(), kinds.AggregatePlugin)


def test_float_rules_agree_with_math() -> None:
    assert math.isinf(float("1e400"))  # why 1e400 must be rejected rather than kept


def nested(shape: str, depth: int) -> bytes:
    """An object whose deepest value sits at `depth` (array shape) or `depth + 1` (object shape)."""
    if shape == "array":
        return b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    return b'{"a": 1, "b": ' + b'{"x": ' * depth + b"1" + b"}" * depth + b"}"


@pytest.mark.parametrize("depth", [899, 900, 901, 902, 5000, 100_000])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_nesting_deeper_than_max_depth_is_invalid(shape: str, depth: int) -> None:
    deepest = depth if shape == "array" else depth + 1
    plugin = json_filter("a", "1")
    if deepest <= MAX_DEPTH:
        assert plugin.filter(Record(nested(shape, depth))) is (shape == "object")
    else:
        with pytest.raises(SerializationError, match=INVALID_JSON):
            plugin.filter(Record(nested(shape, depth)))


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    value = b'{"a": "' + b"[{" * 5000 + b'\\"]"}'
    assert json_filter("a", "x").filter(Record(value)) is False


def test_max_depth_parses_even_from_a_deep_call_stack() -> None:
    def at_depth(frames: int) -> bool:
        if frames:
            return at_depth(frames - 1)
        return json_filter("a", "1").filter(Record(nested("array", MAX_DEPTH)))

    assert at_depth(sys.getrecursionlimit() - 200) is False
