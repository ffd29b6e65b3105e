"""A record as one JSON object, exactly and readably (for ``format: record``).

::

    {"key": "user-1", "value": "{\"a\": 1}", "timestamp": 1700000000000,
     "metadata": {"dataflare.error.stage": "parse"}}

`key` and `value` hold the bytes as text when they are valid UTF-8, else
they are written as `key_base64` / `value_base64`; `null` means no key or
no timestamp. Decoding gives back exactly the record that was encoded,
metadata order included.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from dataflare import jsonio
from dataflare.errors import SerializationError
from dataflare.model import Record

__all__ = ["decode_envelope", "encode_envelope"]


def encode_envelope(record: Record) -> dict[str, Any]:
    """The record as a JSON-ready dict."""
    out: dict[str, Any] = {}
    _put_bytes(out, "key", record.key)
    _put_bytes(out, "value", record.value)
    out["timestamp"] = record.timestamp
    out["metadata"] = dict(record.metadata)
    return out


def decode_envelope(obj: object) -> Record:
    """The record a dict from `encode_envelope` stands for; `SerializationError` if malformed."""
    if not isinstance(obj, dict):
        raise SerializationError(
            f"expected a JSON object with key, value, timestamp, metadata; got {type(obj).__name__}"
        )
    try:
        value = _get_bytes(obj, "value")
        if value is None:
            raise SerializationError("the record has no `value` (or `value_base64`)")
        timestamp = obj.get("timestamp")
        if timestamp is not None and (
            isinstance(timestamp, bool) or not isinstance(timestamp, int)
        ):
            raise SerializationError(f"`timestamp` must be an integer or null, got {timestamp!r}")
        metadata = obj.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise SerializationError("`metadata` must be an object of strings")
        return Record(
            value=value, key=_get_bytes(obj, "key"), timestamp=timestamp, metadata=metadata
        )
    except (binascii.Error, ValueError) as exc:
        raise SerializationError(f"bad base64 in record: {exc}") from exc


def _put_bytes(out: dict[str, Any], name: str, data: bytes | None) -> None:
    if data is None:
        out[name] = None
        return
    try:
        out[name] = data.decode("utf-8")
    except UnicodeDecodeError:
        out[f"{name}_base64"] = base64.b64encode(data).decode("ascii")


def _get_bytes(obj: dict[str, Any], name: str) -> bytes | None:
    if f"{name}_base64" in obj:
        return base64.b64decode(obj[f"{name}_base64"], validate=True)
    text = obj.get(name)
    if text is None:
        return None
    if not isinstance(text, str):
        got = jsonio.dumps(text, f"`{name}`")[:40]
        raise SerializationError(f"`{name}` must be a string or null, got {got}")
    return text.encode("utf-8")
