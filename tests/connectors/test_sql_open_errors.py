"""Opening a database fails with a message that says which one, and never the password."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from dataflare.connectors import PostgresSink, PostgresSource, SqliteSink, SqliteSource
from dataflare.errors import PluginIoError
from hypothesis import given
from hypothesis import strategies as st
from psycopg import conninfo

ROOT = Path(__file__).resolve().parents[2]


def _sqlite_connect_error(plugin: SqliteSource | SqliteSink, path: Path) -> str:
    plugin.configure({"path": str(path), "table": "t"})
    with pytest.raises(PluginIoError) as info:
        plugin.connect()
    plugin.close()
    return str(info.value)


def test_sqlite_sink_on_a_directory_names_the_path(tmp_path):
    message = _sqlite_connect_error(SqliteSink(), tmp_path)
    assert message == (
        f"plugin 'sqlite': cannot open database {tmp_path}: unable to open database file"
    )


def test_sqlite_sink_below_a_file_names_the_path(tmp_path):
    (tmp_path / "plain").write_text("x")
    message = _sqlite_connect_error(SqliteSink(), tmp_path / "plain" / "x.db")
    assert f"{tmp_path / 'plain' / 'x.db'}" in message
    assert message.startswith("plugin 'sqlite': cannot create the folder")


def test_sqlite_source_on_a_file_that_is_not_a_database_names_it(tmp_path):
    path = tmp_path / "not.db"
    path.write_text("hello, this is no database at all" * 10)
    message = _sqlite_connect_error(SqliteSource(), path)
    assert message == f"plugin 'sqlite': cannot open database {path}: file is not a database"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("kind", [PostgresSource, PostgresSink])
def test_postgres_refused_names_host_and_database_not_the_password(kind):
    port = _free_port()
    plugin = kind()
    plugin.configure(
        {
            "host": "127.0.0.1",
            "port": str(port),
            "database": "salesdb",
            "user": "ann",
            "password": "hunter2-secret",
            "table": "t",
        }
    )
    with pytest.raises(PluginIoError) as info:
        plugin.connect()
    plugin.close()
    message = str(info.value)
    assert message.startswith(
        f"plugin 'postgres': cannot connect to database 'salesdb' on host 127.0.0.1 port {port} "
        "as user 'ann': "
    ), message
    assert "hunter2" not in message


def test_postgres_missing_database_named_without_the_password(pg_dsn):
    parts = conninfo.conninfo_to_dict(pg_dsn)
    dsn = conninfo.make_conninfo(pg_dsn, dbname="no_such_db_x1", password="hunter2-secret")
    plugin = PostgresSink()
    plugin.configure({"dsn": dsn, "table": "t"})
    with pytest.raises(PluginIoError) as info:
        plugin.connect()
    plugin.close()
    message = str(info.value)
    assert "database 'no_such_db_x1' on host" in message
    assert f"host {parts.get('host') or 'localhost'}" in message
    assert "hunter2" not in message


@given(
    first=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1),
    # with a digit it cannot be a piece of the message's own words ("connecti"), which have none
    rest=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8).filter(
        lambda text: any(c.isdigit() for c in text)
    ),
)
def test_a_malformed_dsn_never_echoes_the_password(first, rest):
    # An unquoted password with a space leaves its second half as a bare word,
    # which libpq quotes back: 'missing "=" after "<rest>"'.
    plugin = PostgresSource()
    plugin.configure({"dsn": f"host=h password={first} {rest} dbname=d", "table": "t"})
    with pytest.raises(PluginIoError) as info:
        plugin.connect()
    plugin.close()
    assert rest not in str(info.value)
    assert "not a valid libpq connection string" in str(info.value)


def test_cli_names_the_sqlite_path_without_a_traceback(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n')
    (tmp_path / "adir").mkdir()
    pipeline = tmp_path / "x.yaml"
    pipeline.write_text(
        "sources:\n  - {id: src, type: jsonl, config: {path: in.jsonl}}\n"
        "sinks:\n  - {id: out, type: sqlite, config: {path: adir, table: t}}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dataflare", "run", "--quiet", str(pipeline)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "host"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert (
        f"stage 'out' failed in connect: io: plugin 'sqlite': cannot open database "
        f"{tmp_path / 'adir'}: unable to open database file"
    ) in proc.stderr
