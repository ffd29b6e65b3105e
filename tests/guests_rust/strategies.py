"""Hypothesis strategies shared by the guest tests: records at the edges of the ABI and of JSON."""

from __future__ import annotations

import json

from hypothesis import strategies as st

__all__ = ["INT64", "json_objects", "json_values", "metadata", "raw_records", "record_values"]

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)

# Strings a guest must carry unchanged: empty, NUL, astral, combining, RTL.
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
metadata = st.lists(st.tuples(text, text), max_size=5)

raw_records = st.tuples(
    st.none() | st.binary(max_size=32),
    st.binary(max_size=256),
    st.none() | INT64 | st.sampled_from([-(2**63), 2**63 - 1, 0, -1]),
    metadata,
)
"""(key, value, timestamp, metadata pairs): repeats and order in metadata matter."""

FIELDS = ["email", "status", "n", "g", "x"]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1e21, 1e-7, 1e308, -1e308, 2**53 + 1, 5e-324])
    | st.sampled_from(["active", "inactive", "a@b.c", "@x", "", "😀é@ß", "1", "true", "null"])
    | text
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | text, inner, max_size=3)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(st.sampled_from(FIELDS) | text, json_values, max_size=5)


def _dump(obj: object, indent: int | None, ascii_only: bool) -> bytes:
    return json.dumps(obj, indent=indent, ensure_ascii=ascii_only).encode("utf-8")


record_values = st.one_of(
    st.builds(_dump, json_objects, st.sampled_from([None, 1]), st.booleans()),
    st.builds(_dump, json_values, st.none(), st.booleans()),
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"",
            b"{",
            b"{}",
            b"[]",
            b"null",
            b'{"email": 1}',
            b'{"n": NaN}',
            b'{"n": 1e400}',
            b'{"x": "\\ud800"}',
            b'\xef\xbb\xbf{"a": 1}',
            b'{"a": 1} x',
            b' {"email":"q@r"} ',
            b'{"g": 1, "g": "1", "n": 2}',
            b'{"n": 01}',
            b'{"s": "\x01"}',
        ]
    ),
)
"""Record values: valid objects (compact, indented, ASCII-escaped), other JSON, garbage, edges."""
