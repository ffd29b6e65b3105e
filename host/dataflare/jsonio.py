"""JSON from record data, where nesting too deep is one record's fault.

Python's `json` recurses once per nesting level, so a small value such as
1,500 nested arrays raises `RecursionError`. That is not a `ValueError` and
not a `PluginError`, so unhandled it escapes every per-record ``except`` and
ends the run, taking the good records of the batch with it. Every place the
host parses or serialises JSON taken from a record goes through this module,
which turns it into a `SerializationError` for that record, so ``on_error``
applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from dataflare.errors import SerializationError

__all__ = ["TOO_DEEP", "check_document", "deep_guard", "document", "dumps", "loads", "too_deep"]

T = TypeVar("T")

TOO_DEEP = "nested too deeply"
"""The words every depth failure's message contains."""

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"  # JSON's whitespace (RFC 8259)


def too_deep(what: str, action: str) -> SerializationError:
    """The error for `what` being nested too deeply to `action` (parse, serialise, ...)."""
    return SerializationError(f"{what} is {TOO_DEEP} to {action}")


def deep_guard(call: Callable[[], T], what: str, action: str) -> T:
    """`call()`, with `RecursionError` turned into `too_deep(what, action)`."""
    try:
        return call()
    except RecursionError:
        # `from None`: the chained traceback would be a thousand frames long.
        raise too_deep(what, action) from None


def loads(data: str | bytes, what: str = "the value") -> Any:
    """`json.loads`; `SerializationError` naming `what` if invalid or too deep."""
    try:
        return json.loads(data)
    except RecursionError:
        raise too_deep(what, "parse") from None
    except ValueError as exc:
        raise SerializationError(f"{what} is not JSON: {exc}") from exc


def dumps(value: object, what: str = "the value", **options: Any) -> str:
    """`json.dumps(value, **options)`; `SerializationError` if `value` is too deep.

    A `ValueError` or `TypeError` (a value JSON cannot hold) is left alone:
    the caller built `value` and knows what that means.
    """
    try:
        return json.dumps(value, **options)
    except RecursionError:
        raise too_deep(what, "serialise") from None


def document(data: bytes) -> object:
    """The one JSON document in UTF-8 `data`; `ValueError` if there is not exactly one.

    `json.loads` without its per-call encoding detection and decoder lookup,
    for hot paths that check every value. Only UTF-8 is accepted (JSON Lines
    are UTF-8). Too deep a document is a `SerializationError`, which is not
    a `ValueError`: callers that add a hint to "not JSON" must not add it
    to a document that is JSON, only deep.
    """
    return _only_document(_DECODER, data)


def _only_document(decoder: json.JSONDecoder, data: bytes) -> object:
    text = data.decode("utf-8")  # UnicodeDecodeError is a ValueError
    try:
        doc, end = decoder.raw_decode(text, len(text) - len(text.lstrip(_SPACE)))
    except RecursionError:
        raise too_deep("the value", "parse") from None
    if end != len(text.rstrip(_SPACE)):
        rest = text[end:]
        raise json.JSONDecodeError("Extra data", text, end + len(rest) - len(rest.lstrip(_SPACE)))
    return doc


def _nothing(_: object) -> None:
    return None


# Checks a document without keeping it: objects and numbers become None as
# soon as they are parsed, so a 300 MB line does not turn into gigabytes of
# dicts and ints (only arrays' slots and strings inside arrays are kept).
_CHECKER = json.JSONDecoder(
    object_pairs_hook=_nothing, parse_float=_nothing, parse_int=_nothing, parse_constant=_nothing
)
_BIG_DOCUMENT = 1 << 20  # below this the plain decoder is faster and its peak is small


def check_document(data: bytes) -> None:
    """As `document`, but builds no big tree: for checking values it does not keep."""
    _only_document(_DECODER if len(data) <= _BIG_DOCUMENT else _CHECKER, data)
