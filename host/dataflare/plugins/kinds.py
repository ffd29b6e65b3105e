"""One protocol per plugin kind: the single interface the executor calls.

Native plugins and WASM components both satisfy these protocols (WASM ones
through `dataflare.plugins.wasm` adapters), so a pipeline never needs to know
which it holds. Each protocol mirrors its WIT world in `wit/`:

* every method that can fail raises a `dataflare.errors.PluginError`
  subclass (the WIT `plugin-error` case), or `GuestTrap` when a WASM guest
  traps;
* batch methods return one outcome per input record, in order: the value,
  or the `PluginError` for that record, so one bad record never fails its
  neighbours;
* `close` releases everything the plugin holds and is safe to call twice.

A source may also have `read_batch` (`BatchedSource`): it returns the good
records of a read beside the ones it could not decode (`SourceBatch`), so a
bad line follows the source's ``on_error`` instead of failing the whole read.
Every native source has it (`SourceBase` derives it from `read`); a source
without it, such as a WASM component, is read with `read`.

Columnar plugins (`ColumnarFilter`, `ColumnarTransform`, `ColumnarAggregate`,
`ColumnarSink`, `ColumnarSource`) also take and give whole Arrow batches
(`dataflare.columns`): the executor calls those methods when a plugin has
them, and the per-record ones otherwise. Their errors are sparse, by row.
A native source whose input can fail line by line reads columns with
`read_columns_batch` (`BatchedColumnarSource`), failures beside the batch.

Native authors rarely implement these directly: `dataflare.plugins.base`
has base classes that derive the batch forms from the single-record forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, TypeVar, runtime_checkable

import pyarrow as pa

from dataflare.columns import (
    EndOfStream,
    FilterResult,
    FoldResult,
    Pending,
    RecordError,
    TransformResult,
)
from dataflare.errors import PluginError
from dataflare.model import PluginInfo, Record

__all__ = [
    "AggregatePlugin",
    "AnyPlugin",
    "BatchFold",
    "BatchedColumnarSource",
    "BatchedSource",
    "ColumnarAggregate",
    "ColumnarFilter",
    "ColumnarSink",
    "ColumnarSource",
    "ColumnarTransform",
    "FilterPlugin",
    "FoldingPlugin",
    "Outcome",
    "Plugin",
    "ReadFailure",
    "SinkPlugin",
    "SourceBatch",
    "SourceColumns",
    "SourcePlugin",
    "TransformPlugin",
    "UnboundedSource",
    "is_unbounded",
]

T = TypeVar("T")

Outcome: TypeAlias = T | PluginError
"""One record's result in a batch: the value, or the error for that record."""

BatchFold = tuple[bytes, list[PluginError | None]]
"""An aggregate batch result: the new accumulator and one outcome per record."""


@runtime_checkable
class Plugin(Protocol):
    """What every kind has: self-description, configuration, release."""

    def describe(self) -> PluginInfo:
        """Name, version, kind and declared parameters."""
        ...

    def configure(self, config: Mapping[str, str]) -> None:
        """Accept parameters before any record; raise `ConfigurationError` if bad."""
        ...

    def close(self) -> None:
        """Release everything held; safe to call more than once."""
        ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    """Keeps or drops each record."""

    def filter(self, record: Record) -> bool:
        """True keeps the record."""
        ...

    def filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        """One decision or error per record, in order."""
        ...


@runtime_checkable
class TransformPlugin(Plugin, Protocol):
    """Turns each record into exactly one record."""

    def transform(self, record: Record) -> Record:
        """The new record."""
        ...

    def transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        """One new record or error per record, in order."""
        ...


@runtime_checkable
class FoldingPlugin(Plugin, Protocol):
    """An aggregate without `merge`: what a 0.1 component offers."""

    def init(self) -> bytes:
        """The empty accumulator."""
        ...

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        """Fold one record in; returns the new accumulator."""
        ...

    def aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        """Fold records in order; failed records are left out of the fold."""
        ...

    def emit(self, acc: bytes) -> list[Record]:
        """The records the final accumulator stands for (e.g. one per group)."""
        ...


@runtime_checkable
class AggregatePlugin(FoldingPlugin, Protocol):
    """Folds records into an opaque accumulator; emits records at end of stream."""

    def merge(self, a: bytes, b: bytes) -> bytes:
        """One accumulator for the records of `a` then those of `b`.

        Folding the parts of any split of the input and merging them gives
        what one fold gives.

        An adapter for a 0.1 component (which has no merge) raises `PluginError`.
        """
        ...


@runtime_checkable
class SourcePlugin(Plugin, Protocol):
    """Produces records."""

    def connect(self) -> None:
        """Open the underlying resource."""
        ...

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` records; an empty list means end of stream."""
        ...

    def checkpoint(self) -> bytes:
        """An opaque position after the last record read."""
        ...

    def restore(self, position: bytes) -> None:
        """Resume after a position returned by `checkpoint`."""
        ...


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """Input a source read but could not turn into a record."""

    raw: bytes
    """The input as read (a line, a CSV row), kept as the dead letter's value."""
    error: PluginError
    """Why, naming where: ``file:line``, a row or an offset."""


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """One read: the records, and the input that failed to decode between them.

    Both empty means end of stream; only failures is not the end.
    """

    records: list[Record]
    failures: list[ReadFailure] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing read and nothing failed: the end of the stream."""
        return not self.records and not self.failures

    def records_or_raise(self) -> list[Record]:
        """The records, or the first failure raised: `read` for callers that know only it."""
        if self.failures:
            raise self.failures[0].error
        return self.records


@runtime_checkable
class BatchedSource(Protocol):
    """A source that reports undecodable input per record instead of failing the read."""

    def read_batch(self, max_records: int) -> SourceBatch:
        """Up to `max_records` records and failures together; both empty at end of stream."""
        ...


@runtime_checkable
class SinkPlugin(Plugin, Protocol):
    """Consumes records."""

    def connect(self) -> None:
        """Open the underlying resource."""
        ...

    def write(self, record: Record) -> None:
        """Write one record."""
        ...

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Write records in order; one outcome (None for success) per record."""
        ...

    def flush(self) -> None:
        """Make every accepted record durable."""
        ...


@dataclass(frozen=True, slots=True)
class SourceColumns:
    """`SourceBatch` in columns: the records read, and the input that failed between them.

    An empty batch and no failures is the end of the stream.
    """

    batch: pa.RecordBatch
    failures: list[ReadFailure] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing read and nothing failed: the end of the stream."""
        return self.batch.num_rows == 0 and not self.failures


@runtime_checkable
class ColumnarFilter(Protocol):
    """A filter that decides a whole batch in one call."""

    def filter_columns(self, batch: pa.RecordBatch) -> FilterResult:
        """One keep bit per row; failed rows are false and have an error."""
        ...


@runtime_checkable
class ColumnarTransform(Protocol):
    """A transform that turns a whole batch in one call."""

    def transform_columns(self, batch: pa.RecordBatch) -> TransformResult:
        """One output row per input row; rows with an error are placeholders."""
        ...


@runtime_checkable
class ColumnarAggregate(Protocol):
    """An aggregate that folds a whole batch in one call."""

    def aggregate_columns(self, acc: bytes, batch: pa.RecordBatch) -> FoldResult:
        """The new accumulator; rows with an error are left out of the fold."""
        ...


@runtime_checkable
class ColumnarSink(Protocol):
    """A sink that writes a whole batch in one call."""

    def write_columns(self, batch: pa.RecordBatch) -> Mapping[int, RecordError]:
        """Write the rows in order; the rows that failed, by index (empty: all written)."""
        ...


@runtime_checkable
class ColumnarSource(Protocol):
    """A source that reads batches, and can say it has nothing yet (0.2 `read-outcome`)."""

    def read_columns(self, max_records: int) -> pa.RecordBatch | Pending | EndOfStream:
        """Up to `max_records` rows (at least one), `PENDING`, or `END`."""
        ...


@runtime_checkable
class UnboundedSource(Protocol):
    """A source that may never end (a followed file, a polled table, a stream)."""

    def unbounded(self) -> bool:
        """True when, as configured, the stream ends only when the run is stopped."""
        ...


def is_unbounded(source: object) -> bool:
    """Whether `source` says its stream ends only when the run is stopped."""
    return isinstance(source, UnboundedSource) and source.unbounded()


@runtime_checkable
class BatchedColumnarSource(Protocol):
    """A native source that reads batches and reports undecodable input beside them."""

    def read_columns_batch(self, max_records: int) -> SourceColumns | Pending:
        """Up to `max_records` rows and failures together; both empty at end of stream.

        `PENDING`: nothing yet, ask again later (a followed file, a polled table).
        """
        ...


AnyPlugin = FilterPlugin | TransformPlugin | AggregatePlugin | SourcePlugin | SinkPlugin
"""Any plugin the executor can hold."""
