"""Built-in connectors: native source and sink plugins for files, streams and databases.

=========  ======================================  ==========================
name       source                                  sink
=========  ======================================  ==========================
jsonl      JSON Lines file                         JSON Lines file
csv        CSV file with a header                  CSV file with a header
stdin      JSON Lines on standard input            -
stdout     -                                       JSON Lines on standard output
sqlite     SQLite table or query (incremental)     SQLite table, insert/upsert
postgres   PostgreSQL table or query (incremental) PostgreSQL table, insert/upsert
redis      Redis stream, as a consumer group       Redis stream (XADD)
=========  ======================================  ==========================

`PLUGINS` declares them to `dataflare.plugins.registry`, which imports a
connector's module (and its dependencies: psycopg for ``postgres``, redis-py
for ``redis``) only when a pipeline looks that connector up. The classes
load on first use too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataflare.lazy_classes import class_getattr

if TYPE_CHECKING:
    from dataflare.connectors.csvfile import CsvSink, CsvSource
    from dataflare.connectors.jsonl import JsonlSink, JsonlSource, StdinSource, StdoutSink
    from dataflare.connectors.postgres import PostgresSink, PostgresSource
    from dataflare.connectors.redis_streams import RedisStreamSink, RedisStreamSource
    from dataflare.connectors.sqlite import SqliteSink, SqliteSource

__all__ = [
    "PLUGINS",
    "CsvSink",
    "CsvSource",
    "JsonlSink",
    "JsonlSource",
    "PostgresSink",
    "PostgresSource",
    "RedisStreamSink",
    "RedisStreamSource",
    "SqliteSink",
    "SqliteSource",
    "StdinSource",
    "StdoutSink",
]

PLUGINS: dict[str, str] = {
    "source.jsonl": "dataflare.connectors.jsonl:JsonlSource",
    "sink.jsonl": "dataflare.connectors.jsonl:JsonlSink",
    "source.stdin": "dataflare.connectors.jsonl:StdinSource",
    "sink.stdout": "dataflare.connectors.jsonl:StdoutSink",
    "source.csv": "dataflare.connectors.csvfile:CsvSource",
    "sink.csv": "dataflare.connectors.csvfile:CsvSink",
    "source.sqlite": "dataflare.connectors.sqlite:SqliteSource",
    "sink.sqlite": "dataflare.connectors.sqlite:SqliteSink",
    "source.postgres": "dataflare.connectors.postgres:PostgresSource",
    "sink.postgres": "dataflare.connectors.postgres:PostgresSink",
    "source.redis": "dataflare.connectors.redis_streams:RedisStreamSource",
    "sink.redis": "dataflare.connectors.redis_streams:RedisStreamSink",
}
"""Each connector as ``"<kind>.<name>"`` -> ``"module:Class"``, like an entry point."""

__getattr__ = class_getattr(__name__, PLUGINS)
