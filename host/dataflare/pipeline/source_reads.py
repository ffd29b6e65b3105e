"""One way to read any source in columns: `SourceColumns`, or `PENDING` when it has nothing yet.

Sources come in four shapes (`dataflare.plugins.kinds`); the executor reads
them all alike through `source_read`, decided once per source:

* `BatchedColumnarSource` (native JSON Lines): columns and the undecodable
  input beside them, as they are;
* `ColumnarSource` (0.2 components): a batch, `PENDING` or `END`;
* `BatchedSource` (other native sources): records and failures, made columns;
* anything else (0.1 components): `read`'s records, made columns; an empty
  read is the end.
"""

from __future__ import annotations

from collections.abc import Callable

from dataflare.columns import PENDING, EndOfStream, Pending, empty_batch, from_records
from dataflare.plugins.kinds import (
    BatchedColumnarSource,
    BatchedSource,
    ColumnarSource,
    SourceColumns,
    SourcePlugin,
)

__all__ = ["SourceRead", "source_read"]

SourceRead = Callable[[int], SourceColumns | Pending]
"""Reads up to n records; an empty `SourceColumns` is the end of the stream."""


def source_read(source: SourcePlugin) -> SourceRead:
    """How the executor reads `source`."""
    if isinstance(source, BatchedColumnarSource):
        return source.read_columns_batch
    if isinstance(source, ColumnarSource):
        read_columns = source.read_columns

        def columnar(size: int) -> SourceColumns | Pending:
            outcome = read_columns(size)
            if isinstance(outcome, Pending):
                return PENDING
            if isinstance(outcome, EndOfStream):
                return SourceColumns(empty_batch())
            # an empty batch breaks the protocol (`records` holds at least one);
            # taking it as the end is what a 0.1 source meant by it
            return SourceColumns(outcome)

        return columnar
    if isinstance(source, BatchedSource):
        read_batch = source.read_batch

        def batched(size: int) -> SourceColumns:
            read = read_batch(size)
            return SourceColumns(from_records(read.records), read.failures)

        return batched
    read = source.read
    return lambda size: SourceColumns(from_records(read(size)))
