"""The Python guests' JSON module (host/dataflare/sdk/python/dfjson.py), run on the host.

Its fast paths (the C string encoder, integral numbers, code point key order,
skipping the rules walk) must give exactly what its by-hand reference and
the host's independent `dataflare.builtin._json` give.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
from dataflare.builtin import _json as host_json
from dataflare.errors import SerializationError
from hypothesis import given
from hypothesis import strategies as st

_PATH = Path(__file__).parents[2] / "host" / "dataflare" / "sdk" / "python" / "dfjson.py"
_spec = importlib.util.spec_from_file_location("dfjson_under_test", _PATH)
assert _spec is not None and _spec.loader is not None
dfjson = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dfjson)

# every plane, control characters and lone surrogates included
_chars = st.characters(codec=None, categories=None) | st.sampled_from(
    [
        '"',
        "\\",
        "\b",
        "\f",
        "\n",
        "\r",
        "\t",
        "\x00",
        "\x1f",
        "\x7f",
        "\u2028",
        "\ue000",
        "\U0001f600",
    ]
)
_text = st.text(_chars, max_size=12)
_finite = st.floats(allow_nan=False, allow_infinity=False)
_numbers = (
    _finite
    | st.integers(-(2**60), 2**60).map(float)
    | st.sampled_from([0.0, -0.0, 2.0**53, -(2.0**53), 2.0**53 - 1, 1e21, 1e-7, 5e-324])
)
_values = st.recursive(
    st.none() | st.booleans() | _numbers | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=16,
)


@given(_text)
def test_string_text_is_the_by_hand_encoding(s: str) -> None:
    assert dfjson.string_text(s) == dfjson._string_text_by_hand(s)


@given(_numbers)
def test_number_text_is_the_by_hand_encoding_and_the_hosts(x: float) -> None:
    assert dfjson.number_text(x) == dfjson._number_text_by_hand(x) == host_json.es_number(x)


@given(_values)
def test_dumps_is_the_hosts_canonical_encoding(value: object) -> None:
    try:
        expected = host_json.canonical(value)
    except (SerializationError, UnicodeEncodeError, ValueError):
        with pytest.raises((UnicodeEncodeError, ValueError)):
            dfjson.dumps(value)
        return
    assert dfjson.dumps(value) == expected


def _decode_host(data: bytes) -> object:
    try:
        return ("ok", host_json.parse_json(data))
    except SerializationError as exc:
        return ("error", str(exc))


def _decode_guest(data: bytes) -> object:
    try:
        return ("ok", dfjson.loads(data))
    except dfjson.JsonError as exc:
        return ("error", exc.args[0])


_documents = _values.map(
    lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")
)


@given(_documents | st.binary(max_size=30))
def test_loads_accepts_and_rejects_like_the_host(data: bytes) -> None:
    host, guest = _decode_host(data), _decode_guest(data)
    assert host[0] == guest[0], (data, host, guest)
    if host[0] == "ok":
        assert host_json.json_equal(host[1], guest[1])
    else:
        assert host[1] == guest[1]


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        (b'["\\ud800"]', False),  # an escaped lone surrogate
        (b'{"\\udc00": 1}', False),  # in a key
        (b'["\\ud83d\\ude00"]', True),  # an escaped pair is fine
        (b"[" * 901 + b"]" * 901, True),  # the innermost array is at depth 900
        (b"[" * 902 + b"]" * 902, False),
        (b'{"a": ' * 899 + b"1" + b"}" * 899, True),
        (b"[" * 450 + b"{" + b'"a":' + b"1" + b"}" + b"]" * 450, True),
    ],
)
def test_the_rules_walk_still_runs_where_it_matters(data: bytes, ok: bool) -> None:
    assert _decode_guest(data)[0] == ("ok" if ok else "error")
    assert _decode_host(data)[0] == ("ok" if ok else "error")


def test_integral_shortcut_stops_where_doubles_stop_being_exact() -> None:
    big = 2.0**60
    assert dfjson.number_text(big) == "1152921504606847000"  # shortest digits, then zeros
    assert math.isclose(float(dfjson.number_text(2.0**53 - 1)), 2.0**53 - 1)
