"""The inputs checks feed a plugin: fixed standard records and hypothesis strategies.

Standard records cover the edge cases every plugin must survive (empty and
1 MiB values, non-UTF-8 bytes, unicode and empty metadata, missing key and
timestamp, extreme timestamps). Strategies draw JSON objects whose keys and
strings come partly from the plugin's own parameters, so a filter configured
with ``field=status`` sees records that actually have a ``status``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from hypothesis import strategies as st

from dataflare._wit_v0_1.types import Record

__all__ = [
    "I64_MAX",
    "I64_MIN",
    "LARGE_VALUE_BYTES",
    "batches",
    "large_record",
    "record_size",
    "records",
    "render",
    "render_records",
    "standard_records",
]

I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
LARGE_VALUE_BYTES = 1 << 20
_SHOWN_BYTES = 48
_WORDS = ("id", "user", "email", "status", "amount", "name", "x", "")


def standard_records(vocabulary: Sequence[str] = ()) -> list[Record]:
    """The small edge-case records every plugin is run on (the 1 MiB one is separate)."""
    word = vocabulary[0] if vocabulary else "status"
    obj = json.dumps({word: "active", "id": 1, "amount": 12.5, "email": "ann@example.com"})
    return [
        Record(None, b"", None, []),
        Record(b"k", obj.encode(), 1_700_000_000_000, [("source", "test")]),
        Record(None, b"\xff\xfe\x00\x80 not utf-8 \xc3\x28", None, []),
        Record("ключ🔑".encode(), '{"текст": "héllo 🌍"}'.encode(), 0, [("ünï", "cødé 🚀")]),
        Record(b"", b"{}", I64_MIN, [("", "")]),
        Record(None, b"[1,2,3]", I64_MAX, []),
        Record(None, b"null", -1, [("a", "1"), ("a", "2")]),
        Record(b"\x00", b'{"nested": {"a": [1, {"b": null}]}}', 1, []),
    ]


def large_record() -> Record:
    """A record with a 1 MiB value: one JSON object holding one long string."""
    head, tail = b'{"text": "', b'"}'
    filler = b"x" * (LARGE_VALUE_BYTES - len(head) - len(tail))
    return Record(b"large", head + filler + tail, 1_700_000_000_000, [])


def record_size(record: Record) -> int:
    """Bytes a record carries across the boundary (sizes the fuel budget of a call)."""
    meta = sum(len(k.encode()) + len(v.encode()) for k, v in record.metadata)
    return len(record.value) + len(record.key or b"") + meta


def _json_values(words: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        words,
        st.text(max_size=12),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
        max_leaves=6,
    )


def records(vocabulary: Iterable[str] = ()) -> st.SearchStrategy[Record]:
    """Arbitrary records; JSON object values use `vocabulary` for keys and strings."""
    words = st.sampled_from(sorted({*vocabulary, *_WORDS}))
    objects = st.dictionaries(words, _json_values(words), max_size=5).map(
        lambda obj: json.dumps(obj, ensure_ascii=False).encode()
    )
    values = st.one_of(
        objects,
        st.binary(max_size=48),
        st.text(max_size=24).map(lambda s: s.encode("utf-8", "surrogatepass")),
    )
    timestamps = st.one_of(
        st.none(),
        st.sampled_from((0, 1, -1, I64_MIN, I64_MIN + 1, I64_MAX)),
        st.integers(min_value=I64_MIN, max_value=I64_MAX),
    )
    texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
    metadata = st.lists(st.tuples(texts | words, texts | words), max_size=3)
    keys = st.none() | st.binary(max_size=12)
    return st.builds(Record, keys, values, timestamps, metadata)


def batches(vocabulary: Iterable[str] = (), max_size: int = 6) -> st.SearchStrategy[list[Record]]:
    """Lists of 0..`max_size` arbitrary records."""
    return st.lists(records(vocabulary), max_size=max_size)


def _bytes(data: bytes | None) -> str:
    if data is None:
        return "None"
    if len(data) <= _SHOWN_BYTES:
        return repr(data)
    return f"{data[:_SHOWN_BYTES]!r}... ({len(data)} bytes)"


def render(record: Record) -> str:
    """A record for people: long values cut, sizes shown."""
    return (
        f"Record(key={_bytes(record.key)}, value={_bytes(record.value)},"
        f" timestamp={record.timestamp}, metadata={record.metadata!r})"
    )


def render_records(items: Sequence[Record]) -> str:
    """A list of records for people."""
    return "[" + ", ".join(render(r) for r in items) + "]"
