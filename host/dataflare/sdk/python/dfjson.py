"""The JSON rules shared by the DataFlare example plugins, for Python guests.

This is the guest-side implementation of the rules written down in
`host/dataflare/builtin/_json.py` (strict UTF-8 JSON, every number an
IEEE-754 double, RFC 8785 canonical output). It is kept separate from the
host's copy on purpose: the conformance tests compare the two.
"""

import json
import json.encoder
import math

_encode_string = json.encoder.encode_basestring  # the C version when available

INVALID_JSON = "value is not valid JSON"
NOT_AN_OBJECT = "value is not a JSON object"
MAX_DEPTH = 900  # the top-level value is at depth 0


class JsonError(Exception):
    """The bytes are not JSON by our rules; `args[0]` is the message to report."""


def _number(text):
    if not text.isascii():
        raise ValueError(text)
    x = float(text)
    if math.isinf(x) or math.isnan(x):
        raise ValueError(text)
    return x


def _reject_constant(text):
    raise ValueError(text)


# Built once: json.loads with hooks builds a decoder (and its scanner) per call.
_DECODER = json.JSONDecoder(parse_int=_number, parse_float=_number, parse_constant=_reject_constant)


def _opens_too_deep(text):
    """True if a container opens below MAX_DEPTH; scanned before the recursive parser runs.

    Only worth calling when the text has more than MAX_DEPTH brackets.
    """
    depth = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH + 1:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _breaks_rules(value):
    """True if a value sits deeper than MAX_DEPTH or a string holds a lone surrogate."""
    todo = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            todo.extend((k, depth + 1) for k in item)
            todo.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            todo.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in item):
            return True
    return False


def loads(data):
    """Decode one JSON text from UTF-8 bytes, or raise `JsonError`."""
    try:
        text = data.decode("utf-8")
        # counted once: with at most MAX_DEPTH brackets nothing can nest too deep
        deep = text.count("[") + text.count("{") > MAX_DEPTH
        if deep and _opens_too_deep(text):
            raise JsonError(INVALID_JSON)
        value = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError):
        raise JsonError(INVALID_JSON) from None
    # A lone surrogate can only come from a \u escape (the UTF-8 decode refuses
    # encoded ones): most values need no walk at all.
    if (deep or "\\u" in text) and _breaks_rules(value):
        raise JsonError(INVALID_JSON)
    return value


def loads_object(data):
    """Decode a JSON object, or raise `JsonError`."""
    value = loads(data)
    if not isinstance(value, dict):
        raise JsonError(NOT_AN_OBJECT)
    return value


def equal(a, b):
    """JSON equality: same type; numbers as doubles; arrays and objects deeply."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(equal(a[k], b[k]) for k in a)
    return False


def number_text(x):
    """ECMAScript Number::toString of a finite double."""
    if x.is_integer() and -_EXACT < x < _EXACT:
        return str(int(x))  # every such double is an integer printed exactly
    return _number_text_by_hand(x)


_EXACT = 2.0**53


def _number_text_by_hand(x):
    if x == 0:
        return "0"
    if x < 0:
        return "-" + _number_text_by_hand(-x)
    text = repr(x)
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    all_digits = whole + frac
    stripped = all_digits.lstrip("0")
    point = len(whole) + int(exp or "0") - (len(all_digits) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * (-point) + digits
    e = point - 1
    head = digits[0] if k == 1 else digits[0] + "." + digits[1:]
    return head + ("e+" if e >= 0 else "e-") + str(abs(e))


_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def string_text(s):
    """An RFC 8785 string literal.

    `json`'s C encoder (ensure_ascii off) escapes exactly RFC 8785's set, with
    the same short forms and lowercase hex; `_string_text_by_hand` is the
    reference the tests compare it with.
    """
    return _encode_string(s)


def _string_text_by_hand(s):
    out = ['"']
    for c in s:
        if c in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[c])
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _utf16_key(s):
    # By hand: the utf-16 codec is not in the component's snapshot.
    units = []
    for c in s:
        cp = ord(c)
        if cp < 0x10000:
            units.append(cp)
        else:
            cp -= 0x10000
            units.append(0xD800 + (cp >> 10))
            units.append(0xDC00 + (cp & 0x3FF))
    return units


def _all_bmp(keys):
    """True if no key has a character beyond U+FFFF (then code point order is UTF-16 order)."""
    joined = "".join(keys)
    return not joined or max(joined) < "\U00010000"


def _text(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_text(float(value))
    if isinstance(value, str):
        return string_text(value)
    if isinstance(value, list):
        return "[" + ",".join(_text(v) for v in value) + "]"
    keys = sorted(value) if _all_bmp(value) else sorted(value, key=_utf16_key)
    return "{" + ",".join(string_text(k) + ":" + _text(value[k]) for k in keys) + "}"


def dumps(value):
    """The RFC 8785 canonical encoding of `value`, as UTF-8 bytes."""
    return _text(value).encode("utf-8")


def sort_key(s):
    """Sort key giving RFC 8785 key order (UTF-16 code units)."""
    return _utf16_key(s)
