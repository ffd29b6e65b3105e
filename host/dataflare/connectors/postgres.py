"""PostgreSQL source and sink (``postgres``) over psycopg 3.

Connection parameters (usually under ``connection:`` in the pipeline):
``host``, ``port``, ``database`` (or ``dbname``), ``user``, ``password``,
``sslmode``, or a whole ``dsn``; explicit parameters override the DSN's
parts, and anything unset falls back to libpq's environment (``PGUSER``,
``PGPASSWORD``...). The rest are those of `dataflare.connectors._sql`. The
source streams rows through a server-side cursor. Column types for new
tables: BOOLEAN, BIGINT, DOUBLE PRECISION, TEXT, JSONB, BYTEA.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import psycopg
from psycopg import conninfo
from psycopg.types.json import set_json_loads

from dataflare import jsonio
from dataflare.connectors._sql import SINK_PARAMS, SOURCE_PARAMS
from dataflare.connectors._sql_sink import SqlSink
from dataflare.connectors._sql_source import SqlSource
from dataflare.errors import PluginIoError
from dataflare.model import ParamInfo
from dataflare.plugins.registry import register

__all__ = ["PostgresSink", "PostgresSource", "connection_string", "describe_target"]

_CONNECTION = (
    ParamInfo("dsn", "a libpq connection string or postgresql:// URL"),
    ParamInfo("host", "server host"),
    ParamInfo("port", "server port"),
    ParamInfo("database", "database name"),
    ParamInfo("dbname", "database name (libpq spelling)"),
    ParamInfo("user", "user name"),
    ParamInfo("password", "password"),
    ParamInfo("sslmode", "libpq sslmode"),
)
_TYPES = {
    "bool": "BOOLEAN",
    "int": "BIGINT",
    "float": "DOUBLE PRECISION",
    "text": "TEXT",
    "json": "JSONB",
}
_RECORD_TYPES = {
    "key": "BYTEA",
    "value": "BYTEA NOT NULL",
    "timestamp": "BIGINT",
    "metadata": "TEXT",
}


def connection_string(config: dict[str, str]) -> str:
    """The libpq connection string for the connection parameters in `config`."""
    parts = {
        k: config[k]
        for k in ("host", "port", "user", "password", "sslmode", "dbname")
        if config.get(k)
    }
    if config.get("database"):
        parts["dbname"] = config["database"]
    return conninfo.make_conninfo(config.get("dsn", ""), **parts)


def describe_target(info: Mapping[str, object]) -> str:
    """Which server and database a connection is for, for messages; never the password.

    Parts left out of the parameters are libpq's (environment or defaults).
    """

    def part(key: str, env: str, default: str) -> str:
        return str(info.get(key) or os.environ.get(env) or default)

    user = part("user", "PGUSER", getpass.getuser())
    return (
        f"database {part('dbname', 'PGDATABASE', user)!r} on host "
        f"{part('host', 'PGHOST', 'localhost')} port {part('port', 'PGPORT', '5432')} as user "
        f"{user!r}"
    )


def _hide(message: str, info: Mapping[str, object], config: Mapping[str, str]) -> str:
    """`message` on one line, with any password it might quote replaced by ***."""
    message = " ".join(message.split())
    for secret in (info.get("password"), config.get("password")):
        if secret:
            message = message.replace(str(secret), "***")
    return message


def _json_column(data: str | bytes) -> Any:
    return jsonio.loads(data, "a json column")


class _Postgres:
    placeholder = "%s"
    types: ClassVar[Mapping[str, str]] = _TYPES
    record_types: ClassVar[Mapping[str, str]] = _RECORD_TYPES
    config: dict[str, str]

    def _lock_ddl(self, cursor: Any, table: str) -> None:
        """Two sessions running CREATE TABLE IF NOT EXISTS at once may both try to create it
        (a unique violation in pg_type): take a transaction lock named after the table first.
        """
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"dataflare:{table}",))

    def _open(self) -> Any:
        try:
            dsn = connection_string(self.config)
            info = conninfo.conninfo_to_dict(dsn)
        except psycopg.Error:
            # libpq's parse errors quote the text around the mistake, which may
            # be the password: say what is wrong without echoing it.
            raise PluginIoError(
                "plugin 'postgres': the connection parameters are not a valid libpq connection "
                "string or postgresql:// URL (check `dsn`)"
            ) from None
        try:
            conn = psycopg.connect(dsn, connect_timeout=10)
        except psycopg.Error as exc:
            raise PluginIoError(
                f"plugin 'postgres': cannot connect to {describe_target(info)}: "
                f"{_hide(str(exc).strip(), info, self.config)}"
            ) from exc
        # psycopg parses json/jsonb columns with json.loads: a document nested too
        # deeply must be an error of this plugin, not a RecursionError that ends the run.
        set_json_loads(_json_column, conn)
        return conn

    def _data_errors(self) -> tuple[type[Exception], ...]:
        return (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError)

    def _io_errors(self) -> tuple[type[Exception], ...]:
        return (psycopg.Error,)

    def _table_columns(self, conn: Any, table: str) -> list[str] | None:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY "
                "ordinal_position",
                (table,),
            )
            names = [row[0] for row in cursor.fetchall()]
        conn.commit()
        return names or None

    def _rows_cursor(self, conn: Any, sql: str, params: Sequence[object]) -> Any:
        cursor = conn.cursor(name="dataflare_source")
        cursor.execute(sql, tuple(params))
        return cursor


@register("source", "postgres")
class PostgresSource(_Postgres, SqlSource):
    """Reads rows from a PostgreSQL table or query, optionally incrementally."""

    params = (*_CONNECTION, *SOURCE_PARAMS)


@register("sink", "postgres")
class PostgresSink(_Postgres, SqlSink):
    """Writes records as rows of a PostgreSQL table: insert or upsert, a transaction per batch."""

    params = (*_CONNECTION, *SINK_PARAMS)
