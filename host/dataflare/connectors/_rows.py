"""Records <-> SQL rows, the same for SQLite and PostgreSQL.

Two mappings, chosen with the ``format`` parameter:

``fields`` (the default): the value is a JSON object and each top-level
field is a column. Scalars go to their column as they are; objects and lists
as JSON text. Reading, a row becomes the JSON object ``{column: value}`` in
column order; SQL-only types become JSON: decimals as numbers, dates and
times as ISO 8601 text, bytes as base64 text. ``key_column`` names the
column holding the key (as text) and ``timestamp_column`` the one holding
epoch milliseconds (a SQL timestamp is converted); both stay in the value
too when reading.

``record``: a fixed, lossless table ``(key, value, timestamp, metadata)``:
key and value are bytes, timestamp an integer, metadata the JSON text of the
ordered map.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dataflare import jsonio
from dataflare.errors import SerializationError
from dataflare.model import Record

__all__ = [
    "RECORD_COLUMNS",
    "FieldsCodec",
    "column_type",
    "columns_of",
    "envelope_row_to_record",
    "jsonable",
    "record_to_envelope_row",
]

RECORD_COLUMNS = ("key", "value", "timestamp", "metadata")


def jsonable(value: object) -> object:
    """A value read from SQL, as something `json.dumps` writes faithfully."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def _millis(value: object, column: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise SerializationError(f"timestamp column {column!r} holds a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float | decimal.Decimal):
        return int(value)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return int(aware.timestamp() * 1000)
    raise SerializationError(
        f"timestamp column {column!r} holds {type(value).__name__}, not a time"
    )


def column_type(value: object, types: Mapping[str, str]) -> str:
    """The SQL type for a new column whose first value is `value` (per dialect `types`)."""
    if isinstance(value, bool):
        return types["bool"]
    if isinstance(value, int):
        return types["int"]
    if isinstance(value, float):
        return types["float"]
    if isinstance(value, dict | list):
        return types["json"]
    return types["text"]


@dataclass(frozen=True, slots=True)
class FieldsCodec:
    """The ``fields`` mapping, with the optional key and timestamp columns."""

    key_column: str | None = None
    timestamp_column: str | None = None

    def to_row(self, record: Record) -> dict[str, object]:
        """Column -> SQL value; `SerializationError` unless the value is a JSON object."""
        doc = jsonio.loads(record.value)
        if not isinstance(doc, dict):
            raise SerializationError(
                f"expected a JSON object to map to columns, got {type(doc).__name__}"
            )
        row: dict[str, object] = {
            k: jsonio.dumps(v, f"field {k!r}", ensure_ascii=False)
            if isinstance(v, dict | list)
            else v
            for k, v in doc.items()
        }
        if self.key_column and record.key is not None and self.key_column not in row:
            try:
                row[self.key_column] = record.key.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SerializationError("the key is not UTF-8 text") from exc
        if (
            self.timestamp_column
            and record.timestamp is not None
            and self.timestamp_column not in row
        ):
            row[self.timestamp_column] = record.timestamp
        return row

    def from_row(self, row: Mapping[str, object]) -> Record:
        """The record for one row (a mapping in column order)."""
        # A JSON column can hold a document nested deeper than Python recurses.
        doc = jsonio.deep_guard(
            lambda: {str(k): jsonable(v) for k, v in row.items()}, "a column", "read"
        )
        key = None
        if self.key_column and row.get(self.key_column) is not None:
            found = doc[self.key_column]
            key = (found if isinstance(found, str) else jsonio.dumps(found, "the key")).encode(
                "utf-8"
            )
        timestamp = (
            _millis(row.get(self.timestamp_column), self.timestamp_column)
            if self.timestamp_column
            else None
        )
        value = jsonio.dumps(doc, "the row", ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8"
        )
        return Record(value=value, key=key, timestamp=timestamp)


def record_to_envelope_row(record: Record) -> dict[str, object]:
    """The ``record`` mapping: key and value bytes, timestamp, metadata JSON text."""
    return {
        "key": record.key,
        "value": record.value,
        "timestamp": record.timestamp,
        "metadata": json.dumps(dict(record.metadata), ensure_ascii=False),
    }


def envelope_row_to_record(row: Mapping[str, object]) -> Record:
    """The record stored by `record_to_envelope_row`."""
    key, value, timestamp, metadata = (row.get(c) for c in RECORD_COLUMNS)
    meta = (
        jsonio.loads(metadata, "the metadata column")
        if isinstance(metadata, str) and metadata
        else {}
    )
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise SerializationError("the metadata column must hold a JSON object of strings")
    if value is None:
        raise SerializationError("the value column is NULL")
    return Record(
        value=_bytes(value),
        key=None if key is None else _bytes(key),
        timestamp=_millis(timestamp, "timestamp"),
        metadata=meta,
    )


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise SerializationError(f"expected bytes, got {type(value).__name__}")


def columns_of(rows: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Column -> first non-null value, in first-seen order (for creating a table)."""
    found: dict[str, object] = {}
    for row in rows:
        for name, value in row.items():
            if found.get(name) is None:
                found[name] = value
    return found
