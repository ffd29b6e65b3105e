"""Every stage call on Arrow batches: a plugin's columnar method, or its per-record one adapted.

The executor moves `pyarrow.RecordBatch`es (`dataflare.columns`) from stage
to stage. A plugin with the columnar method of its kind (`filter_columns`,
...; `dataflare.plugins.kinds`) is called with the batch as it is; any other
(native plugins with only per-record methods, 0.1 WASM adapters) is called
with `Record`s made from the batch (`to_records`) and its outcomes turned
into the columnar result types. Which one is decided once per stage, since a
runtime protocol check is not free per batch.

Each `*Parts` cuts a batch with zero-copy slices and joins the outcomes of
the slices, for `poison_bisect.Isolator.run_parts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from dataflare.columns import (
    SCHEMA,
    FilterResult,
    FoldResult,
    RecordError,
    TransformResult,
    from_records,
    to_records,
)
from dataflare.errors import GuestTrap, PluginError
from dataflare.model import Record
from dataflare.plugins.kinds import (
    AggregatePlugin,
    ColumnarAggregate,
    ColumnarFilter,
    ColumnarSink,
    ColumnarTransform,
    FilterPlugin,
    SinkPlugin,
    TransformPlugin,
)

__all__ = [
    "BatchMiscount",
    "ErrorParts",
    "FilterCall",
    "FilterParts",
    "FoldCall",
    "TransformCall",
    "TransformParts",
    "WriteCall",
    "aggregate_call",
    "errors_of",
    "filter_call",
    "keep_mask",
    "sink_call",
    "transform_call",
]

T = TypeVar("T")

_FAILED = (PluginError, GuestTrap)

FilterCall = Callable[[pa.RecordBatch], FilterResult]
TransformCall = Callable[[pa.RecordBatch], TransformResult]
FoldCall = Callable[[bytes, pa.RecordBatch], FoldResult]
WriteCall = Callable[[pa.RecordBatch], Mapping[int, RecordError]]


class BatchMiscount(Exception):
    """A plugin gave a number of outcomes other than the number of records it was given."""

    def __init__(self, got: int, expected: int) -> None:
        super().__init__(f"returned {got} outcomes for a batch of {expected} records")
        self.got = got
        self.expected = expected


def errors_of(outcomes: Sequence[object], expected: int) -> dict[int, RecordError]:
    """The failed entries of a per-record outcome list, by index."""
    if len(outcomes) != expected:
        raise BatchMiscount(len(outcomes), expected)
    return {i: o for i, o in enumerate(outcomes) if isinstance(o, _FAILED)}


def filter_call(plugin: FilterPlugin) -> FilterCall:
    """How the executor filters a batch with `plugin`."""
    if isinstance(plugin, ColumnarFilter):
        return plugin.filter_columns

    def adapted(batch: pa.RecordBatch) -> FilterResult:
        outcomes = plugin.filter_batch(to_records(batch))
        if len(outcomes) != batch.num_rows:
            raise BatchMiscount(len(outcomes), batch.num_rows)
        if all(type(o) is bool for o in outcomes):  # the usual batch: no failure
            return FilterResult(pa.array(outcomes, pa.bool_()))
        keep = [o is True for o in outcomes]
        return FilterResult(pa.array(keep, pa.bool_()), errors_of(outcomes, batch.num_rows))

    return adapted


def transform_call(plugin: TransformPlugin) -> TransformCall:
    """How the executor transforms a batch with `plugin`."""
    if isinstance(plugin, ColumnarTransform):
        return plugin.transform_columns

    def adapted(batch: pa.RecordBatch) -> TransformResult:
        records = to_records(batch)
        outcomes = plugin.transform_batch(records)
        errors = errors_of(outcomes, len(records))
        # a failed row's placeholder is the record as it came in
        made = [o if isinstance(o, Record) else r for r, o in zip(records, outcomes, strict=True)]
        return TransformResult(from_records(made), errors)

    return adapted


def aggregate_call(plugin: AggregatePlugin) -> FoldCall:
    """How the executor folds a batch into an accumulator with `plugin`."""
    if isinstance(plugin, ColumnarAggregate):
        return plugin.aggregate_columns

    def adapted(acc: bytes, batch: pa.RecordBatch) -> FoldResult:
        new, outcomes = plugin.aggregate_batch(acc, to_records(batch))
        return FoldResult(new, errors_of(outcomes, batch.num_rows))

    return adapted


def sink_call(plugin: SinkPlugin) -> WriteCall:
    """How the executor writes a batch to `plugin`."""
    if isinstance(plugin, ColumnarSink):
        return plugin.write_columns

    def adapted(batch: pa.RecordBatch) -> Mapping[int, RecordError]:
        return errors_of(plugin.write_batch(to_records(batch)), batch.num_rows)

    return adapted


def keep_mask(rows: int, errors: Mapping[int, object]) -> pa.Array[Any]:
    """True for every row except those in `errors`."""
    mask = np.ones(rows, bool)
    mask[list(errors)] = False
    return pa.array(mask)


def _shifted(errors: list[Mapping[int, RecordError]], sizes: list[int]) -> dict[int, RecordError]:
    joined: dict[int, RecordError] = {}
    base = 0
    for part, size in zip(errors, sizes, strict=True):
        joined.update((base + i, e) for i, e in part.items())
        base += size
    return joined


def _all_failed(rows: int, error: RecordError) -> dict[int, RecordError]:
    return dict.fromkeys(range(rows), error)


class _Slices:
    def size(self, batch: pa.RecordBatch) -> int:
        """Rows in `batch`."""
        return int(batch.num_rows)

    def cut(self, batch: pa.RecordBatch, start: int, stop: int) -> pa.RecordBatch:
        """Rows start..stop, sharing `batch`'s buffers."""
        return batch.slice(start, stop - start)


class ErrorParts(_Slices):
    """Parts of a call whose outcome is the failed rows (sinks, aggregates)."""

    def join(
        self, outcomes: list[Mapping[int, RecordError]], sizes: list[int]
    ) -> Mapping[int, RecordError]:
        """The failed rows of every part, renumbered."""
        return _shifted(outcomes, sizes)

    def failed(self, batch: pa.RecordBatch, error: RecordError) -> Mapping[int, RecordError]:
        """Every row failed."""
        return _all_failed(batch.num_rows, error)


class FilterParts(_Slices):
    """Parts of a filter call."""

    def join(self, outcomes: list[FilterResult], sizes: list[int]) -> FilterResult:
        """The keep bits one after another, the failed rows renumbered."""
        keep = pa.concat_arrays([o.keep for o in outcomes])
        return FilterResult(keep, _shifted([o.errors for o in outcomes], sizes))

    def failed(self, batch: pa.RecordBatch, error: RecordError) -> FilterResult:
        """Every row failed (and is not kept)."""
        rows = batch.num_rows
        return FilterResult(pa.array(np.zeros(rows, bool)), _all_failed(rows, error))


class TransformParts(_Slices):
    """Parts of a transform call."""

    def join(self, outcomes: list[TransformResult], sizes: list[int]) -> TransformResult:
        """The output rows one after another, the failed rows renumbered."""
        made = pa.Table.from_batches([o.batch for o in outcomes], SCHEMA).combine_chunks()
        batch = made.to_batches()[0] if made.num_rows else outcomes[0].batch
        return TransformResult(batch, _shifted([o.errors for o in outcomes], sizes))

    def failed(self, batch: pa.RecordBatch, error: RecordError) -> TransformResult:
        """Every row failed; the input rows stand in as placeholders."""
        return TransformResult(batch, _all_failed(batch.num_rows, error))
