"""SQLite source and sink (``sqlite``), on the standard library's `sqlite3`: the embedded default.

Parameters are those of `dataflare.connectors._sql` plus ``path``, the
database file (created by the sink when missing). Column types for new
tables: INTEGER, REAL, TEXT, BLOB (booleans as 0/1, JSON as TEXT).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from dataflare.connectors._sql import SINK_PARAMS, SOURCE_PARAMS, quote
from dataflare.connectors._sql_sink import SqlSink
from dataflare.connectors._sql_source import SqlSource
from dataflare.errors import ConfigurationError, PluginIoError
from dataflare.model import ParamInfo
from dataflare.plugins.registry import register

__all__ = ["SqliteSink", "SqliteSource"]

_TYPES = {"bool": "INTEGER", "int": "INTEGER", "float": "REAL", "text": "TEXT", "json": "TEXT"}
_RECORD_TYPES = {
    "key": "BLOB",
    "value": "BLOB NOT NULL",
    "timestamp": "INTEGER",
    "metadata": "TEXT",
}


class _Sqlite:
    placeholder = "?"
    types: ClassVar[Mapping[str, str]] = _TYPES
    record_types: ClassVar[Mapping[str, str]] = _RECORD_TYPES

    config: dict[str, str]

    def _open(self) -> Any:
        path = self.config["path"]
        try:
            # Autocommit mode: transactions are begun explicitly per batch, so the
            # savepoints in the shared sink code mean the same as on PostgreSQL.
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA busy_timeout = 5000")
                # Reads the header now, so a file that is not a database fails
                # here, with its path, rather than at the first read.
                conn.execute("PRAGMA schema_version")
            except BaseException:
                conn.close()
                raise
        except sqlite3.Error as exc:
            # sqlite3's messages ("unable to open database file") never say which file.
            raise PluginIoError(f"plugin 'sqlite': cannot open database {path}: {exc}") from exc
        return conn

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def _data_errors(self) -> tuple[type[Exception], ...]:
        return (
            sqlite3.IntegrityError,
            sqlite3.DataError,
            sqlite3.InterfaceError,
            sqlite3.ProgrammingError,
        )

    def _io_errors(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error,)

    def _table_columns(self, conn: Any, table: str) -> list[str] | None:
        rows = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
        return [row[1] for row in rows] or None

    def _rows_cursor(self, conn: Any, sql: str, params: Sequence[object]) -> Any:
        return conn.execute(sql, tuple(params))


_PATH_IN = ParamInfo("path", "the SQLite database file", required=True)


@register("source", "sqlite")
class SqliteSource(_Sqlite, SqlSource):
    """Reads rows from a SQLite table or query."""

    params = (_PATH_IN, *SOURCE_PARAMS)

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters; the database file must exist."""
        super().configure(config)
        if not os.path.isfile(self.param("path")):
            raise ConfigurationError(
                f"plugin 'sqlite': database file not found: {self.param('path')}"
            )


@register("sink", "sqlite")
class SqliteSink(_Sqlite, SqlSink):
    """Writes records as rows of a SQLite table (one transaction per batch)."""

    params = (
        ParamInfo("path", "the SQLite database file (created when missing)", required=True),
        *SINK_PARAMS,
    )

    def _open(self) -> Any:
        path = self.config["path"]
        folder = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise PluginIoError(
                f"plugin 'sqlite': cannot create the folder {folder} of database {path}: "
                f"{exc.strerror or exc}"
            ) from exc
        return super()._open()
