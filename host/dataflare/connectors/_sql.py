"""What the SQLite and PostgreSQL connectors share: the SQL, batching and positions.

A dialect subclass supplies the connection and a few facts (placeholder,
column types, which exceptions are about the data). The record <-> row
mapping lives in `dataflare.connectors._rows`.

Source: ``table`` or ``query``; with ``incremental_column`` the rows are read
in that column's order and the checkpoint is the last value read, so a rerun
(the executor restores the saved position) reads only rows with a greater
value. Use a column that only grows, such as a serial id: rows added later
with an equal value, and rows where it is NULL, are not read again. With
``poll_interval_ms`` the source never ends: after the last row it runs the
query again (rows past the last value) every that many milliseconds, and has
nothing (`PENDING`) in between, until the run is stopped. On the Dask engine,
``partitions: N`` splits the rows into N ranges of the incremental column,
cut where each holds about as many rows (`SqlSource.partitions`).

Sink: ``mode: insert`` or ``upsert`` (``INSERT ... ON CONFLICT (upsert_key)
DO UPDATE``). A missing table is created from the first batch when
``create`` is true. Each batch is one transaction; a record the database
rejects fails alone (the batch is retried row by row under savepoints), a
lost connection fails the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from dataflare.errors import ConfigurationError
from dataflare.model import ParamInfo

__all__ = ["SINK_PARAMS", "SOURCE_PARAMS", "Dialect", "choice", "quote"]

SOURCE_PARAMS = (
    ParamInfo("table", "the table to read (or give query)"),
    ParamInfo("query", "a SELECT to read instead of a table"),
    ParamInfo(
        "incremental_column", "a growing column; a rerun reads only rows past the last one seen"
    ),
    ParamInfo("key_column", "the column that becomes the record key"),
    ParamInfo("timestamp_column", "the column that becomes the record timestamp"),
    ParamInfo(
        "format",
        "fields (a row is a JSON object) or record (key, value, timestamp, metadata)",
        default="fields",
    ),
    ParamInfo(
        "poll_interval_ms",
        "with incremental_column: after the last row, ask again every N ms until stopped",
    ),
    ParamInfo(
        "partitions",
        "on the Dask engine: split into N key ranges of incremental_column (about equal rows)",
        default="1",
    ),
    ParamInfo(
        "key_range",
        'JSON {"from": V, "to": V}: read only rows with from <= incremental_column < to '
        "(set by the Dask engine; null: unbounded, and the first range holds NULLs)",
    ),
)
SINK_PARAMS = (
    ParamInfo("table", "the table to write", required=True),
    ParamInfo("mode", "insert or upsert", default="insert"),
    ParamInfo(
        "upsert_key", "comma-separated conflict columns for upsert (default: key_column, or key)"
    ),
    ParamInfo("key_column", "the column that receives the record key"),
    ParamInfo("timestamp_column", "the column that receives the record timestamp"),
    ParamInfo(
        "format",
        "fields (a JSON object's fields are columns) or record (key, value, timestamp, metadata)",
        default="fields",
    ),
    ParamInfo("create", "create a missing table from the first batch", default="true"),
)


def quote(name: str) -> str:
    """An SQL identifier, quoted (both dialects use double quotes)."""
    return '"' + name.replace('"', '""') + '"'


def choice(plugin: str, name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise `ConfigurationError` unless `value` is one of `choices`."""
    if value not in choices:
        raise ConfigurationError(
            f"plugin {plugin!r}: {name} must be one of {', '.join(choices)}; got {value!r}"
        )


class Dialect:
    """Facts about one database; mixed into the source and sink classes."""

    placeholder: ClassVar[str]
    types: ClassVar[Mapping[str, str]]
    record_types: ClassVar[Mapping[str, str]]

    def _open(self) -> Any:
        """A DB-API connection, in a transaction-per-batch mode."""
        raise NotImplementedError

    def _data_errors(self) -> tuple[type[Exception], ...]:
        """Exceptions that mean the database rejected this record's data."""
        raise NotImplementedError

    def _io_errors(self) -> tuple[type[Exception], ...]:
        """Every database exception (anything not in `_data_errors` is about the connection)."""
        raise NotImplementedError

    def _begin(self, conn: Any) -> None:
        """Start a transaction explicitly when the driver does not."""

    def _lock_ddl(self, cursor: Any, table: str) -> None:
        """Before ``CREATE TABLE IF NOT EXISTS``: wait for another writer creating it too.

        Several processes (Dask partitions) may create one table at once; a
        database whose ``IF NOT EXISTS`` is not safe against that (PostgreSQL)
        takes a lock held until the transaction ends.
        """

    def _table_columns(self, conn: Any, table: str) -> list[str] | None:
        """The table's columns in order, or None when it does not exist."""
        raise NotImplementedError

    def _rows_cursor(self, conn: Any, sql: str, params: Sequence[object]) -> Any:
        """A cursor streaming the rows of `sql` (fetchmany works on it)."""
        raise NotImplementedError
