"""The JavaScript example plugins (componentize-js, WIT 0.2) decide exactly as their native twins.

Through bindings generated from wit/ (`guest02`), one record at a time and as
columnar batches (`twins02`), so JS-specific JSON pitfalls (lone surrogates,
`Infinity`, BOM, `__proto__`, UTF-16 key order, BigInt timestamps) and
UTF-8 byte offsets over non-ASCII values are all exercised against the
host's rules.
"""

from __future__ import annotations

import dataclasses

import pytest
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import ConfigurationError
from dataflare.model import Record
from guests_js.guest02 import Guest02, result
from guests_js.twins02 import check_json_filter, check_mask_email, to_wit
from guests_rust.strategies import FIELDS, metadata, record_values
from hypothesis import given, settings
from hypothesis import strategies as st
from support.guests import built_guest

match_values = st.sampled_from(
    ["active", "1", "1.0", "true", "null", '{"a":[1]}', "", "😀é@ß", "[]", "a@b.c", "{", "1e400"]
)
records = st.builds(
    lambda v, k, t, m: Record(value=v, key=k, timestamp=t, metadata=dict(m)),
    record_values,
    st.none() | st.binary(max_size=8),
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    metadata,
)

EDGE_VALUES = [
    b'{"__proto__": "x@y", "email": "a@b"}',
    b'{"email": "\\ud83d\\ude00z@q", "n": 1}',
    b'{"email": "\\ud83d"}',
    b'{"\\udc00": 1}',  # a lone low surrogate, as a key
    b'{"email": "a\\uDFFF@b"}',  # and in a value, escaped in upper case
    b'{"email": "a@b", "\xef\xbf\xbf": 1, "\xf0\x9f\x98\x80": 2, "b": [1e21, 1e-7, -0, 5e-324]}',
    b'{"n": 123456789012345678901234567890}',
    b'{"email": "x", "email": "y@z"}',
    b"\xef\xbb\xbf{}",
    b'{"n": 1E400}',
    b"\xff",
    b"",
]


@pytest.fixture(scope="module")
def paths():
    return {n: built_guest("js", n) for n in ("json_filter", "mask_email")}


@given(st.sampled_from([*FIELDS, "__proto__"]), match_values, st.lists(records, max_size=8))
@settings(max_examples=60)
def test_json_filter_matches_native(paths, field, value, recs):
    check_json_filter(paths["json_filter"], {"field": field, "value": value}, recs)


@given(st.sampled_from([*FIELDS, "__proto__", "missing"]), st.lists(records, max_size=8))
@settings(max_examples=60)
def test_mask_email_matches_native(paths, field, recs):
    check_mask_email(paths["mask_email"], {"field": field}, recs)


@pytest.mark.parametrize("field", ["email", "__proto__", "n"])
def test_json_pitfalls_agree(paths, field):
    recs = [Record(value=v) for v in EDGE_VALUES]
    check_mask_email(paths["mask_email"], {"field": field}, recs)
    for value in ("1.2345678901234568e+29", "x@y", '"x@y"', "-0"):
        check_json_filter(paths["json_filter"], {"field": field, "value": value}, recs)


@pytest.mark.slow
def test_one_mib_values_agree(paths):
    big = b'{"email": "' + b"x" * (1 << 20) + b'@example.com", "status": "active"}'
    recs = [Record(value=big), Record(value=b"[" * (1 << 20))]
    check_json_filter(paths["json_filter"], {"field": "status", "value": "active"}, recs)
    check_mask_email(paths["mask_email"], {"field": "email"}, recs)


def test_non_ascii_values_are_cut_at_utf8_bytes(paths):
    # Before each field, characters of 2, 3 and 4 UTF-8 bytes (1, 1 and 2
    # UTF-16 units): cutting by units instead of bytes would shift every
    # later record of the batch.
    values = ['{"s": "é", "email": "ü@x"}', '{"s": "€€", "email": "😀a@b"}', '{"s": "😀"}', "{}"]
    recs = [Record(value=v.encode()) for v in values] * 3
    check_mask_email(paths["mask_email"], {"field": "email"}, recs)
    for value in ("é", "€€", "😀"):
        check_json_filter(paths["json_filter"], {"field": "s", "value": value}, recs)


def test_transform_keeps_key_timestamp_and_metadata(paths):
    guest = Guest02(paths["mask_email"], "transform")
    pairs = [("a", "1"), ("a", "2"), ("ü", "😀")]
    rec = to_wit(Record(key=b"\x00k", value=b'{"email": "bob@x"}', timestamp=-(2**63)))
    out = result(guest.world.transform(dataclasses.replace(rec, metadata=pairs)))
    assert (out.key, out.value, out.timestamp) == (b"\x00k", b'{"email":"b***@x"}', -(2**63))
    assert [tuple(p) for p in out.metadata] == pairs


def test_configuration_errors_match_native(paths):
    for params in ({"field": "a"}, {"field": "a", "value": "b", "zz": "c", "aa": "d"}, {}):
        native = JsonFilter()
        with pytest.raises(ConfigurationError) as info:
            native.configure(params)
        guest = Guest02(paths["json_filter"], "filter")
        assert result(guest.world.configure(list(params.items()))) == info.value


def test_describe_matches_native(paths):
    worlds = {"json_filter": "filter", "mask_email": "transform"}
    for name, native in (("json_filter", JsonFilter), ("mask_email", MaskEmail)):
        want = native().describe()
        got = Guest02(paths[name], worlds[name]).world.describe()
        assert (got.name, got.version, got.kind.value, got.description) == (
            want.name,
            want.version,
            want.kind.value,
            want.description,
        )
        assert [(p.name, p.description, p.required, p.default) for p in got.params] == [
            (p.name, p.description, p.required, p.default) for p in want.params
        ]


def test_log_import_reaches_the_host(paths):
    guest = Guest02(paths["json_filter"], "filter")
    guest.configure({"field": "s", "value": "v"})
    assert guest.logs == [("debug", "json_filter: keep s == v")]


@pytest.mark.parametrize("depth", [899, 900, 901, 902, 903, 5000])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_deep_nesting_is_bounded_at_900_like_the_rust_guest(paths, depth, shape):
    # The host's rule leaves the depth bound to Python's recursion limit, so
    # the guests share their own: MAX_DEPTH = 900 in the Rust and JS SDKs.
    if shape == "array":
        value = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    else:
        value = b'{"a": 1, "b": ' + b'{"x": ' * depth + b"1" + b"}" * depth + b"}"
    guest = Guest02(paths["json_filter"], "filter")
    guest.configure({"field": "a", "value": "1"})
    decision = result(guest.world.filter(to_wit(Record(value=value))))
    # The outer object is depth 0: the innermost array sits at `depth`, the
    # innermost scalar of the object shape at `depth + 1`.
    deepest = depth if shape == "array" else depth + 1
    assert isinstance(decision, bool) == (deepest <= 900), decision
