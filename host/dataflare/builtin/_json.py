"""The JSON rules every example plugin shares, in every guest language.

The example plugins (`json_filter`, `mask_email`, `count_sum`) exist in
several languages and must agree byte for byte, so "JSON" means exactly this:

Decoding a record value
    * The bytes must be UTF-8 (strict; a byte-order mark is an error) and
      hold exactly one JSON text (RFC 8259), optionally surrounded by
      space, tab, LF or CR.
    * `NaN`, `Infinity` and `-Infinity` are not JSON.
    * Every number is read as an IEEE-754 double, rounded to nearest; a
      number whose magnitude rounds to infinity is invalid. So ``1``,
      ``1.0`` and ``1e0`` are the same value, and integers beyond 2**53 lose
      precision, exactly as in JavaScript.
    * A string or key holding an escaped lone surrogate (``"\\ud800"``) is
      invalid.
    * A repeated object key keeps its last value.
    * Nesting is bounded: the top-level value is at depth 0 and the items of
      an array or object at depth d are at depth d + 1; a value deeper than
      `MAX_DEPTH` (900) makes the whole text invalid. So ``[[]]`` nested 900
      arrays deep is valid and 901 is not; an object holding a scalar counts
      the scalar too.
    * Anything else the parser rejects makes the value invalid.
    Failure raises ``SerializationError("value is not valid JSON")``; a valid
    value that is not an object raises
    ``SerializationError("value is not a JSON object")``.

Equality (`json_equal`)
    Same JSON type, and: numbers equal as doubles (``-0 == 0``); strings
    equal code point by code point; arrays element by element; objects with
    the same key set and equal values. `true` is not `1`.

Canonical encoding (`canonical`)
    RFC 8785 (JSON Canonicalization Scheme), as UTF-8: no whitespace; object
    keys sorted by their UTF-16 code units; strings escape only ``"``,
    ``\\``, and U+0000..U+001F (``\\b \\t \\n \\f \\r`` short forms, the
    rest as lowercase ``\\u00xx``); numbers in ECMAScript
    ``Number.prototype.toString`` form (``1`` not ``1.0``, ``1e+21``,
    ``1e-7``, ``-0`` as ``0``).
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from dataflare.errors import SerializationError
from dataflare.jsonio import deep_guard

__all__ = [
    "INVALID_JSON",
    "MAX_DEPTH",
    "NOT_AN_OBJECT",
    "JsonValue",
    "canonical",
    "es_number",
    "json_equal",
    "parse_json",
    "parse_object",
]

INVALID_JSON = "value is not valid JSON"
NOT_AN_OBJECT = "value is not a JSON object"
MAX_DEPTH = 900
"""The deepest a value may be nested (the top-level value is at depth 0)."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")
_limit_lock = threading.Lock()

JsonValue = Any
"""A decoded value: dict, list, str, float, bool or None (numbers are always float)."""

T = TypeVar("T")


def _number(text: str) -> float:
    # The pure-Python scanner's \d also matches non-ASCII digits.
    if not text.isascii():
        raise ValueError(text)
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _no_constant(text: str) -> float:
    raise ValueError(text)


def parse_json(value: bytes) -> JsonValue:
    """Decode `value` by the rules above; raises `SerializationError` if invalid."""
    if _too_deep_to_parse(value):
        raise SerializationError(INVALID_JSON)
    try:
        decoded = _loads(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SerializationError(INVALID_JSON) from None
    if not _well_formed(decoded):
        raise SerializationError(INVALID_JSON)
    return decoded


def _loads(text: str) -> JsonValue:
    return _with_room(
        lambda: json.loads(
            text, parse_int=_number, parse_float=_number, parse_constant=_no_constant
        ),
        "parse",
    )


def _with_room(call: Callable[[], T], action: str) -> T:
    """`call()`, which recurses once per nesting level of a value within MAX_DEPTH.

    Such a value is valid, so a `RecursionError` means only that the limit
    is lower than the nesting needs (two frames a level, plus the caller's):
    make room (never lowering the limit) and call again. Should that still
    not do, the value fails as too deep (`jsonio.deep_guard`), never the run.
    """
    try:
        return call()
    except RecursionError:
        with _limit_lock:
            sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * MAX_DEPTH))
    return deep_guard(call, "the value", action)


def _too_deep_to_parse(value: bytes) -> bool:
    """True when some container opens deeper than MAX_DEPTH (checked before recursing)."""
    if value.count(b"[") + value.count(b"{") <= MAX_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', value)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH + 1:
                return True
        else:
            depth -= 1
    return False


def parse_object(value: bytes) -> dict[str, JsonValue]:
    """Decode `value`, which must be a JSON object."""
    decoded = parse_json(value)
    if not isinstance(decoded, dict):
        raise SerializationError(NOT_AN_OBJECT)
    return decoded


def _well_formed(root: JsonValue) -> bool:
    """False when a value is nested deeper than MAX_DEPTH or a string holds a lone surrogate."""
    stack = [(root, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, str):
            strings = [item]
        elif isinstance(item, dict):
            strings = list(item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            strings = []
            stack.extend((v, depth + 1) for v in item)
        else:
            continue
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def json_equal(a: JsonValue, b: JsonValue) -> bool:
    """Structural equality by the rules above."""
    return _with_room(lambda: _equal(a, b), "compare")


def _equal(a: JsonValue, b: JsonValue) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def canonical(value: JsonValue) -> bytes:
    """The RFC 8785 encoding of `value`, as UTF-8 bytes."""
    return _with_room(lambda: _encode(value), "serialise").encode("utf-8")


def _encode(value: JsonValue) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return es_number(float(value))
    if isinstance(value, list):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_encode(k)}:{_encode(value[k])}" for k in keys) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def es_number(x: float) -> str:
    """ECMAScript `Number.prototype.toString` of a finite double."""
    if not math.isfinite(x):
        raise ValueError(f"{x!r} has no JSON form")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + es_number(-x)
    # repr is the shortest round-tripping decimal, as ECMAScript requires.
    _, digit_tuple, exponent = Decimal(repr(x)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = k + int(exponent)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{sign}{abs(e)}"
