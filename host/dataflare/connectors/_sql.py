"""What the SQLite and PostgreSQL connectors share: the SQL, batching and positions.

A dialect subclass supplies the connection and a few facts (placeholder,
column types, which exceptions are about the data). The record <-> row
mapping lives in `dataflare.connectors._rows`.

Source: ``table`` or ``query``; with ``incremental_column`` the rows are read
in that column's order and the checkpoint is the last value read, so a rerun
(the executor restores the saved position) reads only rows with a greater
value. Use a column that only grows, such as a serial id: rows added later
with an equal value, and rows where it is NULL, are not read again.

Sink: ``mode: insert`` or ``upsert`` (``INSERT ... ON CONFLICT (upsert_key)
DO UPDATE``). A missing table is created from the first batch when
``create`` is true. Each batch is one transaction; a record the database
rejects fails alone (the batch is retried row by row under savepoints), a
lost connection fails the batch.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from dataflare.connectors._rows import (
    FieldsCodec,
    column_type,
    columns_of,
    envelope_row_to_record,
    record_to_envelope_row,
)
from dataflare.errors import ConfigurationError, PluginError, PluginIoError, ProcessingError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import SinkBase, SourceBase

__all__ = ["SINK_PARAMS", "SOURCE_PARAMS", "SqlSink", "SqlSource", "quote"]

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


def _choice(plugin: str, name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigurationError(
            f"plugin {plugin!r}: {name} must be one of {', '.join(choices)}; got {value!r}"
        )


class _Dialect:
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

    def _table_columns(self, conn: Any, table: str) -> list[str] | None:
        """The table's columns in order, or None when it does not exist."""
        raise NotImplementedError

    def _rows_cursor(self, conn: Any, sql: str, params: Sequence[object]) -> Any:
        """A cursor streaming the rows of `sql` (fetchmany works on it)."""
        raise NotImplementedError


class SqlSource(_Dialect, SourceBase):
    """Reads a table or query, optionally incrementally."""

    def __init__(self) -> None:
        super().__init__()
        self._conn: Any = None
        self._cursor: Any = None
        self._names: list[str] = []
        self._last: object = None

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters: exactly one of table and query."""
        super().configure(config)
        name = self._plugin_name()
        if bool(self.config.get("table")) == bool(self.config.get("query")):
            raise ConfigurationError(f"plugin {name!r}: give exactly one of table and query")
        _choice(name, "format", self.param("format"), ("fields", "record"))
        self._codec = FieldsCodec(
            self.config.get("key_column"), self.config.get("timestamp_column")
        )

    def connect(self) -> None:
        """Open the connection (the query runs on the first read, after any restore)."""
        self._conn = self._guard(self._open)

    def _sql(self) -> tuple[str, list[object]]:
        table = self.config.get("table")
        base = (
            f"SELECT * FROM {quote(table)}"
            if table
            else f"SELECT * FROM ({self.param('query')}) AS dataflare_q"
        )
        column = self.config.get("incremental_column")
        if not column:
            return base, []
        if self._last is None:
            return f"{base} ORDER BY {quote(column)}", []
        return f"{base} WHERE {quote(column)} > {self.placeholder} ORDER BY {quote(column)}", [
            self._last
        ]

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` rows as records; remembers the last incremental value."""
        if self._conn is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: read before connect")
        if self._cursor is None:
            sql, params = self._sql()
            self._cursor = self._guard(lambda: self._rows_cursor(self._conn, sql, params))
            self._names = [d[0] for d in self._cursor.description]
            column = self.config.get("incremental_column")
            if column and column not in self._names:
                raise ConfigurationError(
                    f"plugin {self._plugin_name()!r}: incremental_column {column!r} is not a "
                    f"column of the result ({', '.join(self._names)})"
                )
        rows = self._guard(lambda: self._cursor.fetchmany(max_records))
        column = self.config.get("incremental_column")
        record_mode = self.param("format") == "record"
        out = []
        for raw in rows:
            row = dict(zip(self._names, raw, strict=True))
            out.append(envelope_row_to_record(row) if record_mode else self._codec.from_row(row))
            if column and row[column] is not None:
                self._last = row[column]
        return out

    def checkpoint(self) -> bytes:
        """The last incremental value read, as JSON; empty without an incremental column."""
        column = self.config.get("incremental_column")
        if not column or self._last is None:
            return b""
        last = self._last
        value = (
            last
            if isinstance(last, int | float | str) and not isinstance(last, bool)
            else str(last)
        )
        return json.dumps({"column": column, "after": value}).encode("utf-8")

    def restore(self, position: bytes) -> None:
        """Start after a position from `checkpoint` (of the same incremental column)."""
        if not position:
            return
        try:
            saved = json.loads(position)
            column, after = saved["column"], saved["after"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProcessingError(
                f"plugin {self._plugin_name()!r}: unreadable position {position[:80]!r}"
            ) from exc
        if column != self.config.get("incremental_column"):
            raise ProcessingError(
                f"plugin {self._plugin_name()!r}: the saved position is for column {column!r}, "
                f"not {self.config.get('incremental_column')!r}; delete the state file to start "
                "over"
            )
        self._last = after

    def close(self) -> None:
        """Close the cursor and connection (safe twice)."""
        cursor, self._cursor = self._cursor, None
        conn, self._conn = self._conn, None
        try:
            if cursor is not None:
                cursor.close()
        except self._io_errors():
            pass
        finally:
            if conn is not None:
                conn.close()

    def _guard(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except self._io_errors() as exc:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}".strip()) from exc


class SqlSink(_Dialect, SinkBase):
    """Inserts or upserts records, one transaction per batch."""

    def __init__(self) -> None:
        super().__init__()
        self._conn: Any = None
        self._columns: list[str] | None = None
        self._keys: list[str] = []

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters."""
        super().configure(config)
        name = self._plugin_name()
        _choice(name, "mode", self.param("mode"), ("insert", "upsert"))
        _choice(name, "format", self.param("format"), ("fields", "record"))
        _choice(name, "create", self.param("create"), ("true", "false"))
        self._codec = FieldsCodec(
            self.config.get("key_column"), self.config.get("timestamp_column")
        )
        if self.param("mode") == "upsert":
            default = (
                "key" if self.param("format") == "record" else self.config.get("key_column", "")
            )
            text = self.config.get("upsert_key") or default
            self._keys = [k.strip() for k in text.split(",") if k.strip()]
            if not self._keys:
                raise ConfigurationError(
                    f"plugin {name!r}: mode upsert needs upsert_key (or key_column)"
                )

    def connect(self) -> None:
        """Open the connection and look the table up."""
        self._conn = self._guard(self._open)
        self._columns = self._guard(lambda: self._table_columns(self._conn, self.param("table")))
        if self._columns is None and self.param("create") != "true":
            raise PluginIoError(
                f"plugin {self._plugin_name()!r}: table {self.param('table')!r} does not exist "
                "and create is false"
            )

    def write(self, record: Record) -> None:
        """Write one record (its own transaction)."""
        outcome = self.write_batch([record])[0]
        if outcome is not None:
            raise outcome

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Write records in one transaction; each rejected record fails alone."""
        if self._conn is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: write before connect")
        outcomes: list[PluginError | None] = [None] * len(records)
        rows: list[tuple[int, dict[str, object]]] = []
        encode = record_to_envelope_row if self.param("format") == "record" else self._codec.to_row
        for index, record in enumerate(records):
            try:
                rows.append((index, encode(record)))
            except PluginError as exc:
                outcomes[index] = exc
        if not rows:
            return outcomes
        conn = self._conn
        try:
            self._begin(conn)
            if self._columns is None:
                self._create([row for _, row in rows])
            known = set(self._columns or ())
            good: list[tuple[int, dict[str, object]]] = []
            for index, row in rows:
                extra = [c for c in row if c not in known]
                if extra:
                    outcomes[index] = ProcessingError(
                        f"field(s) {', '.join(extra)} have no column in table "
                        f"{self.param('table')!r} (columns: {', '.join(self._columns or ())})"
                    )
                else:
                    good.append((index, row))
            self._insert(conn, good, outcomes)
            conn.commit()
        except self._io_errors() as exc:
            self._rollback()
            raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}".strip()) from exc
        return outcomes

    def _insert(
        self,
        conn: Any,
        rows: list[tuple[int, dict[str, object]]],
        outcomes: list[PluginError | None],
    ) -> None:
        """Insert groups of rows with the same columns; on a data error, row by row."""
        rejected: tuple[type[Exception], ...] = (*self._data_errors(), OverflowError)
        cursor = conn.cursor()
        try:
            start = 0
            while start < len(rows):
                names = tuple(rows[start][1])
                end = start
                while end < len(rows) and tuple(rows[end][1]) == names:
                    end += 1
                group = rows[start:end]
                sql = self._insert_sql(names)
                cursor.execute("SAVEPOINT dataflare_batch")
                try:
                    cursor.executemany(sql, [tuple(row.values()) for _, row in group])
                    cursor.execute("RELEASE SAVEPOINT dataflare_batch")
                except rejected:
                    cursor.execute("ROLLBACK TO SAVEPOINT dataflare_batch")
                    for index, row in group:
                        cursor.execute("SAVEPOINT dataflare_row")
                        try:
                            cursor.execute(sql, tuple(row.values()))
                            cursor.execute("RELEASE SAVEPOINT dataflare_row")
                        except rejected as exc:
                            cursor.execute("ROLLBACK TO SAVEPOINT dataflare_row")
                            outcomes[index] = ProcessingError(
                                f"the database rejected the record: {str(exc).strip()}"
                            )
                start = end
        finally:
            cursor.close()

    def _insert_sql(self, names: Sequence[str]) -> str:
        table = quote(self.param("table"))
        cols = ", ".join(quote(n) for n in names)
        marks = ", ".join([self.placeholder] * len(names))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        if self.param("mode") != "upsert":
            return sql
        keys = ", ".join(quote(k) for k in self._keys)
        updates = [f"{quote(n)} = EXCLUDED.{quote(n)}" for n in names if n not in self._keys]
        action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        return f"{sql} ON CONFLICT ({keys}) {action}"

    def _create(self, rows: list[dict[str, object]]) -> None:
        if self.param("format") == "record":
            columns = dict(self.record_types)
        else:
            columns = {
                name: column_type(value, self.types) for name, value in columns_of(rows).items()
            }
            if self._codec.key_column:
                columns.setdefault(self._codec.key_column, self.types["text"])
            if self._codec.timestamp_column:
                columns.setdefault(self._codec.timestamp_column, self.types["int"])
        parts = [f"{quote(n)} {t}" for n, t in columns.items()]
        if self._keys:
            missing = [k for k in self._keys if k not in columns]
            if missing:
                raise PluginIoError(
                    f"plugin {self._plugin_name()!r}: upsert_key column(s) {', '.join(missing)} "
                    f"are not among the new table's columns ({', '.join(columns)})"
                )
            parts.append(f"PRIMARY KEY ({', '.join(quote(k) for k in self._keys)})")
        cursor = self._conn.cursor()
        try:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {quote(self.param('table'))} ({', '.join(parts)})"
            )
        finally:
            cursor.close()
        self._columns = list(columns)

    def flush(self) -> None:
        """Nothing to do: every batch is committed when written."""

    def close(self) -> None:
        """Close the connection (safe twice); an open transaction is rolled back."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _rollback(self) -> None:
        with contextlib.suppress(*self._io_errors()):
            self._conn.rollback()

    def _guard(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except self._io_errors() as exc:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}".strip()) from exc
