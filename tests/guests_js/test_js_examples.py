"""The JavaScript example plugins (componentize-js) decide exactly as their native twins.

Same checks as the Rust examples (`tests/guests_rust/test_rust_examples.py`),
through wasmtime-py's stock component API, so JS-specific JSON pitfalls
(lone surrogates, `Infinity`, BOM, `__proto__`, UTF-16 key order, BigInt
timestamps) are all exercised against the host's rules.
"""

from __future__ import annotations

import pytest
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import ConfigurationError
from dataflare.model import Record
from guests_rust.stock_host import StockGuest, outcome, to_wit
from guests_rust.strategies import FIELDS, metadata, record_values
from guests_rust.twins import check_json_filter, check_mask_email
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


def test_transform_keeps_key_timestamp_and_metadata(paths):
    guest = StockGuest(paths["mask_email"])
    rec = (b"\x00k", b'{"email": "bob@x"}', -(2**63), [("a", "1"), ("a", "2"), ("ü", "😀")])
    out = guest.call("transform", to_wit(rec))
    assert (out.key, out.value, out.timestamp) == (b"\x00k", b'{"email":"b***@x"}', -(2**63))
    assert [tuple(p) for p in out.metadata] == rec[3]


def test_configuration_errors_match_native(paths):
    for params in ({"field": "a"}, {"field": "a", "value": "b", "zz": "c", "aa": "d"}, {}):
        native = JsonFilter()
        with pytest.raises(ConfigurationError) as info:
            native.configure(params)
        guest = StockGuest(paths["json_filter"])
        assert outcome(guest.raw("configure", list(params.items()))) == info.value


def test_describe_matches_native(paths):
    for name, native in (("json_filter", JsonFilter), ("mask_email", MaskEmail)):
        want = native().describe()
        got = StockGuest(paths[name]).raw("describe")
        assert (got.name, got.version, got.kind, got.description) == (
            want.name,
            want.version,
            want.kind.value,
            want.description,
        )
        assert [(p.name, p.description, p.required, p.default) for p in got.params] == [
            (p.name, p.description, p.required, p.default) for p in want.params
        ]


def test_log_import_reaches_the_host(paths):
    guest = StockGuest(paths["json_filter"])
    guest.configure({"field": "s", "value": "v"})
    assert guest.logs == [("debug", "json_filter: keep s == v")]


@pytest.mark.parametrize("depth", [899, 900, 901, 902, 903, 5000])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_deep_nesting_js_and_rust_agree(paths, depth, shape):
    # The host's rule leaves the depth bound to Python's recursion limit, so
    # the two guests are compared with each other: both bound it at 900.
    if shape == "array":
        value = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    else:
        value = b'{"a": 1, "b": ' + b'{"x": ' * depth + b"1" + b"}" * depth + b"}"
    rec = to_wit(Record(value=value))
    decisions = []
    for path in (paths["json_filter"], built_guest("rust", "json_filter")):
        guest = StockGuest(path)
        guest.configure({"field": "a", "value": "1"})
        decisions.append(outcome(guest.raw("filter", rec)))
    assert decisions[0] == decisions[1]
    # The outer object is depth 0: the innermost array sits at `depth`, the
    # innermost scalar of the object shape at `depth + 1`.
    deepest = depth if shape == "array" else depth + 1
    assert isinstance(decisions[0], bool) == (deepest <= 900), decisions
