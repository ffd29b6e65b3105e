"""`json_document`, the sink's JSON check, agrees with `json.loads` on UTF-8 input."""

from __future__ import annotations

import json

import pytest
from dataflare.connectors.jsonl import json_document
from hypothesis import given
from hypothesis import strategies as st

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_json_values, st.sampled_from(["", " ", "\n", "\t\r\n "]))
def test_valid_documents_parse_like_json_loads(value: object, pad: str) -> None:
    data = (pad + json.dumps(value, ensure_ascii=False) + pad).encode()
    assert json_document(data) == json.loads(data)


@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_accepts_and_rejects_what_json_loads_does(data: bytes) -> None:
    try:
        expected = json.loads(data.decode("utf-8"))
    except ValueError:
        with pytest.raises(ValueError):
            json_document(data)
    else:
        assert json_document(data) == expected or expected != expected  # NaN


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Expecting value: line 1 column 1 (char 0)"),
        (b"  ", "Expecting value: line 1 column 3 (char 2)"),
        (b'{"a": 1} x', "Extra data: line 1 column 10 (char 9)"),
        (b"{} {}", "Extra data: line 1 column 4 (char 3)"),
        (b"\xff", "invalid start byte"),
    ],
)
def test_errors_say_where(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        json_document(data)
