"""The SQL sink shared by SQLite and PostgreSQL: insert or upsert, a transaction per batch.

`write_batch_at` also stores the source position the batch ends at in the
``dataflare_positions`` table, in the same transaction: the executor uses it
to deliver exactly once (see `dataflare.pipeline.checkpoints`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dataflare.connectors._rows import FieldsCodec, column_type, columns_of, record_to_envelope_row
from dataflare.connectors._sql import Dialect, choice, quote
from dataflare.errors import ConfigurationError, PluginError, PluginIoError, ProcessingError
from dataflare.model import Record
from dataflare.plugins.base import SinkBase

__all__ = ["POSITIONS_TABLE", "SqlSink"]

POSITIONS_TABLE = "dataflare_positions"
"""Where a sink keeps the source positions committed with its records."""


class SqlSink(Dialect, SinkBase):
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
        choice(name, "mode", self.param("mode"), ("insert", "upsert"))
        choice(name, "format", self.param("format"), ("fields", "record"))
        choice(name, "create", self.param("create"), ("true", "false"))
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

    def committed_positions(self, scope: str) -> dict[str, bytes]:
        """Source id -> the position last committed with records by `scope` (a pipeline sink).

        Creates the positions table when missing, so the first run starts empty.
        """
        if self._conn is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: used before connect")
        conn = self._conn

        def read() -> dict[str, bytes]:
            self._begin(conn)
            cursor = conn.cursor()
            try:
                blob = self.record_types["key"]
                self._lock_ddl(cursor, POSITIONS_TABLE)
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {quote(POSITIONS_TABLE)} (scope TEXT NOT NULL, "
                    f"source TEXT NOT NULL, position {blob} NOT NULL, PRIMARY KEY (scope, source))"
                )
                cursor.execute(
                    f"SELECT source, position FROM {quote(POSITIONS_TABLE)} WHERE scope = "
                    f"{self.placeholder}",
                    (scope,),
                )
                found = {str(src): bytes(pos) for src, pos in cursor.fetchall()}
            finally:
                cursor.close()
            conn.commit()
            return found

        try:
            return read()
        except self._io_errors() as exc:
            self._rollback()
            raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}".strip()) from exc

    def write_batch_at(
        self, records: Sequence[Record], scope: str, source: str, position: bytes
    ) -> list[PluginError | None]:
        """`write_batch`, also storing `position` in the same transaction (exactly once)."""
        return self._write_batch(records, (scope, source, position))

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Write records in one transaction; each rejected record fails alone."""
        return self._write_batch(records, None)

    def _write_batch(
        self, records: Sequence[Record], commit: tuple[str, str, bytes] | None
    ) -> list[PluginError | None]:
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
        if not rows and commit is None:
            return outcomes
        conn = self._conn
        try:
            self._begin(conn)
            if self._columns is None and rows:
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
            if commit is not None:
                self._store_position(conn, *commit)
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

    def _store_position(self, conn: Any, scope: str, source: str, position: bytes) -> None:
        cursor = conn.cursor()
        try:
            mark = self.placeholder
            cursor.execute(
                f"INSERT INTO {quote(POSITIONS_TABLE)} (scope, source, position) VALUES "
                f"({mark}, {mark}, {mark}) ON CONFLICT (scope, source) DO UPDATE SET "
                "position = EXCLUDED.position",
                (scope, source, position),
            )
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
            self._lock_ddl(cursor, self.param("table"))
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
