"""The SQL source shared by SQLite and PostgreSQL: table or query, optionally incremental.

With ``poll_interval_ms`` (and an incremental column) the source is
unbounded: when a query's rows are all read, its transaction ends (no
snapshot is held between polls) and the next read after the interval runs
it again for the rows past the last value; reads before then answer
`PENDING`.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from dataflare.columns import PENDING, Pending, from_records
from dataflare.connectors._rows import FieldsCodec, envelope_row_to_record
from dataflare.connectors._sql import Dialect, choice, quote
from dataflare.errors import ConfigurationError, PluginIoError, ProcessingError
from dataflare.model import Record
from dataflare.plugins.base import SourceBase
from dataflare.plugins.kinds import SourceColumns

__all__ = ["SqlSource"]


class SqlSource(Dialect, SourceBase):
    """Reads a table or query, optionally incrementally."""

    def __init__(self) -> None:
        super().__init__()
        self._conn: Any = None
        self._cursor: Any = None
        self._names: list[str] = []
        self._last: object = None
        self._poll: float | None = None
        """Seconds between polls; None: read once and end."""
        self._next_poll = 0.0
        self._range: dict[str, object] | None = None
        """With ``key_range``: the bounds of the incremental column this source reads."""

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
        interval = self.config.get("poll_interval_ms")
        self._poll = None if interval is None else _interval(name, interval)
        if self._poll is not None and not self.config.get("incremental_column"):
            raise ConfigurationError(
                f"plugin {name!r}: poll_interval_ms needs incremental_column (the column that "
                "tells new rows from those already read)",
                param="poll_interval_ms",
            )
        count = self.param("partitions")
        if not count.isascii() or not count.isdigit() or not 0 < int(count) <= 100_000:
            raise ConfigurationError(
                f"plugin {name!r}: partitions must be a whole number from 1 to 100000; "
                f"got {count!r}",
                param="partitions",
            )
        if (int(count) > 1 or self.config.get("key_range")) and not self.config.get(
            "incremental_column"
        ):
            raise ConfigurationError(
                f"plugin {name!r}: partitions and key_range split on incremental_column: give it",
                param="partitions",
            )
        self._range = _key_range(name, self.config.get("key_range", ""))

    def partitions(self) -> list[dict[str, str]]:
        """Dask partitions: ``partitions: N`` key ranges holding about equal numbers of rows.

        Cut at the values found at every N-th of the rows in the column's
        order (one query per cut, on the coordinator). A polled source never
        ends, so it is not split.
        """
        wanted = int(self.param("partitions"))
        column = self.config.get("incremental_column")
        if wanted < 2 or not column or self._poll is not None or self._range is not None:
            return []
        base = self._base()
        conn = self._guard(self._open)
        try:
            count_sql = f"SELECT count(*) FROM ({base}) AS dataflare_c"
            total = int(self._first_row(conn, count_sql)[0])
            cuts: list[object] = []
            for n in range(1, wanted):
                sql = (
                    f"SELECT {quote(column)} FROM ({base}) AS dataflare_c WHERE {quote(column)} "
                    f"IS NOT NULL ORDER BY {quote(column)} LIMIT 1 OFFSET {total * n // wanted}"
                )
                row = self._first_row(conn, sql)
                if row is not None and (not cuts or row[0] != cuts[-1]):
                    cuts.append(_json_value(row[0]))
        finally:
            self._guard(conn.close)
        bounds: list[object] = [None, *cuts, None]
        return [
            {"key_range": json.dumps({"from": low, "to": high})}
            for low, high in itertools.pairwise(bounds)
        ]

    def _first_row(self, conn: Any, sql: str) -> Any:
        """The first row of `sql` (None if none), its cursor closed (PostgreSQL's is named)."""
        cursor = self._guard(partial(self._rows_cursor, conn, sql, []))
        try:
            return self._guard(cursor.fetchone)
        finally:
            self._guard(cursor.close)

    def unbounded(self) -> bool:
        """With ``poll_interval_ms`` the stream never ends: the run goes on until stopped."""
        return self._poll is not None

    def read_columns_batch(self, max_records: int) -> SourceColumns | Pending:
        """`read` in columns; when polling, `PENDING` between the last row and the next poll."""
        if self._poll is None:
            return SourceColumns(from_records(self.read(max_records)))
        if self._cursor is None and time.monotonic() < self._next_poll:
            return PENDING
        rows = self.read(max_records)
        if rows:
            return SourceColumns(from_records(rows))
        self._end_query()
        self._next_poll = time.monotonic() + self._poll
        return PENDING

    def _end_query(self) -> None:
        """Close the finished query and end its transaction, so the next poll sees new rows."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            self._guard(cursor.close)
        if self._conn is not None:
            self._guard(self._conn.rollback)  # it only read: nothing to keep

    def connect(self) -> None:
        """Open the connection (the query runs on the first read, after any restore)."""
        self._conn = self._guard(self._open)

    def _base(self) -> str:
        table = self.config.get("table")
        return (
            f"SELECT * FROM {quote(table)}"
            if table
            else f"SELECT * FROM ({self.param('query')}) AS dataflare_q"
        )

    def _sql(self) -> tuple[str, list[object]]:
        base = self._base()
        column = self.config.get("incremental_column")
        if not column:
            return base, []
        where: list[str] = []
        params: list[object] = []
        if self._range is not None:
            low, high = self._range.get("from"), self._range.get("to")
            if low is not None:
                where.append(f"{quote(column)} >= {self.placeholder}")
                params.append(low)
            if high is not None:
                # NULLs sort nowhere: the first range (no lower bound) reads them
                below = f"{quote(column)} < {self.placeholder}"
                where.append(below if low is not None else f"({below} OR {quote(column)} IS NULL)")
                params.append(high)
        if self._last is not None:
            where.append(f"{quote(column)} > {self.placeholder}")
            params.append(self._last)
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        return f"{base}{condition} ORDER BY {quote(column)}", params

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
        if column and self._last is None and self._range is not None:
            # a partition commits from its first batch (a fresh source has no position yet)
            return json.dumps({"column": column, "after": None}).encode("utf-8")
        if not column or self._last is None:
            return b""
        return json.dumps({"column": column, "after": _json_value(self._last)}).encode("utf-8")

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
        """`call()`, its database errors made `PluginIoError`s naming the plugin."""
        try:
            return call()
        except self._io_errors() as exc:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}".strip()) from exc


def _json_value(value: object) -> object:
    """A column value as the JSON of a position or a key range holds it (others as text)."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    return str(value)


def _key_range(plugin: str, text: str) -> dict[str, object] | None:
    """``key_range`` parsed: {"from": V or null, "to": V or null}; None when not given."""
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if not isinstance(found, dict) or set(found) - {"from", "to"}:
        raise ConfigurationError(
            f'plugin {plugin!r}: key_range must be JSON {{"from": V, "to": V}}; got {text[:80]!r}',
            param="key_range",
        )
    return found


def _interval(plugin: str, text: str) -> float:
    """``poll_interval_ms`` in seconds: a whole number of milliseconds, at least 1."""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= 86_400_000:
        raise ConfigurationError(
            f"plugin {plugin!r}: poll_interval_ms must be a whole number of milliseconds from 1 "
            f"to 86400000 (a day); got {text!r}",
            param="poll_interval_ms",
        )
    return int(text) / 1000
