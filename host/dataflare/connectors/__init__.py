"""Built-in connectors: native source and sink plugins for files, streams and databases.

Importing this package registers them with `dataflare.plugins.registry`:

=========  ======================================  ==========================
name       source                                  sink
=========  ======================================  ==========================
jsonl      JSON Lines file                         JSON Lines file
csv        CSV file with a header                  CSV file with a header
stdin      JSON Lines on standard input            -
stdout     -                                       JSON Lines on standard output
sqlite     SQLite table or query (incremental)     SQLite table, insert/upsert
postgres   PostgreSQL table or query (incremental) PostgreSQL table, insert/upsert
=========  ======================================  ==========================
"""

from dataflare.connectors.csvfile import CsvSink, CsvSource
from dataflare.connectors.jsonl import JsonlSink, JsonlSource, StdinSource, StdoutSink
from dataflare.connectors.postgres import PostgresSink, PostgresSource
from dataflare.connectors.sqlite import SqliteSink, SqliteSource

__all__ = [
    "CsvSink",
    "CsvSource",
    "JsonlSink",
    "JsonlSource",
    "PostgresSink",
    "PostgresSource",
    "SqliteSink",
    "SqliteSource",
    "StdinSource",
    "StdoutSink",
]
