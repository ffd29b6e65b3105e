"""The SQL source shared by SQLite and PostgreSQL: table or query, optionally incremental."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from dataflare.connectors._rows import FieldsCodec, envelope_row_to_record
from dataflare.connectors._sql import Dialect, choice, quote
from dataflare.errors import ConfigurationError, PluginIoError, ProcessingError
from dataflare.model import Record
from dataflare.plugins.base import SourceBase

__all__ = ["SqlSource"]


class SqlSource(Dialect, SourceBase):
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
        choice(name, "format", self.param("format"), ("fields", "record"))
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
