"""Hypothesis strategies for JSON-ish records, shared with the guest conformance tests."""

from __future__ import annotations

import json

from dataflare.model import Record
from hypothesis import strategies as st

FIELDS = ("email", "region", "n", "", "é", "\U0001f600")
"""Field names the plugins are configured with; generated objects use them often."""

texts = st.text(max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
    st.sampled_from(["a@b.c", "@x", "no-at", "x@y@z", "", "EU", "1", "true", "null"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
keys = st.one_of(st.sampled_from(FIELDS), texts)
json_objects = st.dictionaries(keys, json_values, max_size=6)


@st.composite
def encoded(draw: st.DrawFn, values: st.SearchStrategy[object] = json_objects) -> bytes:
    """A JSON text for a drawn value, in varied but valid spellings."""
    value = draw(values)
    ascii_only = draw(st.booleans())
    spaced = draw(st.booleans())
    text = json.dumps(
        value,
        ensure_ascii=ascii_only,
        separators=(", ", ": ") if spaced else (",", ":"),
    )
    return text.encode("utf-8")


not_json = st.one_of(
    st.binary(max_size=16),
    st.sampled_from(
        [
            b"",
            b" ",
            b"NaN",
            b'{"n": NaN}',
            b'{"n": Infinity}',
            b'{"n": 1e400}',
            b'{"n": -1e999}',
            b'{"email": "\\ud800"}',
            b'{"\\udc00": 1}',
            b"\xef\xbb\xbf{}",
            b'{"a": 1',
            b'{"a": 1}}',
            b"{'a': 1}",
            b'{"a": 01}',
            b'{"a": 1.}',
            b'{"a": "\x01"}',
            b'{"a": 1}\x00',
            b"\xff\xfe{\x00}\x00",
            '{"a": 1\u0661}'.encode(),
        ]
    ),
)
non_objects = encoded(json_values.filter(lambda v: not isinstance(v, dict)))

values = st.one_of(
    encoded(),
    encoded(),
    encoded(),
    not_json,
    non_objects,
)
metadata = st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3)
records = st.builds(
    Record,
    value=values,
    key=st.none() | st.binary(max_size=6),
    timestamp=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    metadata=metadata,
)
record_lists = st.lists(records, max_size=12)
