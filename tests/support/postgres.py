"""The session's PostgreSQL server (see `support.servers` for who starts and stops it)."""

from __future__ import annotations

from support.servers import ThrowawayServer


def _reach(dsn: str) -> None:
    import psycopg

    psycopg.connect(dsn, connect_timeout=5).close()


SERVER = ThrowawayServer(
    "PostgreSQL", "postgres", "DATAFLARE_PG_DSN", "DATAFLARE_PG_DIR", "postgres", _reach
)
postgres_dsn = SERVER.address
stop_owned_server = SERVER.stop
