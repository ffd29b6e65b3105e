"""Columnar record batches: the shape records take on the host's hot path.

A batch is a `pyarrow.RecordBatch` with the schema `SCHEMA`: one row per
record, the columns of `dataflare.model.Record`. Arrow keeps every value of a
column in one buffer with offsets, which is also the shape WIT
`dataflare:plugin@0.2.0` batches cross the component boundary in, so a batch
goes from a file to a guest and back without a Python object per record.
Per-record `Record` objects are made only where a per-record API asks for
them (`to_records`, `record_at`).

The outcome types say what a columnar plugin call returned. Errors are
sparse, by row index, as in the WIT: a batch where every record succeeded
carries an empty mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pyarrow as pa

from dataflare.errors import GuestTrap, PluginError
from dataflare.model import Record

__all__ = [
    "END",
    "METADATA_TYPE",
    "PENDING",
    "SCHEMA",
    "EndOfStream",
    "FilterResult",
    "FoldResult",
    "Pending",
    "RecordError",
    "TransformResult",
    "empty_batch",
    "from_records",
    "from_values",
    "record_at",
    "to_records",
]

METADATA_TYPE: Final = pa.map_(pa.string(), pa.string())
"""Metadata pairs of one record, in order."""

SCHEMA: Final = pa.schema(
    [
        ("key", pa.binary()),
        ("value", pa.binary()),
        ("timestamp", pa.int64()),
        ("metadata", METADATA_TYPE),
    ]
)
"""key (null when absent), value, timestamp (null when absent), metadata pairs.

Only key and timestamp are ever null; value and metadata never are (a record
without metadata has an empty map).
"""

RecordError = PluginError | GuestTrap
"""Why one record of a batch failed."""


def from_records(records: Sequence[Record]) -> pa.RecordBatch:
    """A batch holding `records`, in order."""
    n = len(records)
    # Most records have no metadata: skip building a list of pairs per record then.
    if any(r.metadata for r in records):
        metadata = pa.array([list(r.metadata.items()) for r in records], METADATA_TYPE)
    else:
        metadata = _empty_maps(n)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([r.key for r in records], pa.binary()),
            pa.array([r.value for r in records], pa.binary()),
            pa.array([r.timestamp for r in records], pa.int64()),
            metadata,
        ],
        schema=SCHEMA,
    )


def _empty_maps(n: int) -> pa.Array[Any]:
    """`n` empty metadata maps."""
    return pa.MapArray.from_arrays(
        pa.array(np.zeros(n + 1, np.int32)),
        pa.array([], pa.string()),
        pa.array([], pa.string()),
    )


def from_values(values: pa.Array[Any]) -> pa.RecordBatch:
    """A batch of key-less, timestamp-less records without metadata, one per value."""
    n = len(values)
    return pa.RecordBatch.from_arrays(
        [
            pa.nulls(n, pa.binary()),
            values.cast(pa.binary()),
            pa.nulls(n, pa.int64()),
            _empty_maps(n),
        ],
        schema=SCHEMA,
    )


def empty_batch() -> pa.RecordBatch:
    """A batch of no records."""
    return from_records(())


def to_records(batch: pa.RecordBatch) -> list[Record]:
    """The records of `batch`, as `Record` objects, in order."""
    n = batch.num_rows
    if n == 0:
        return []
    values = batch.column(1).to_pylist()
    # All-null and all-empty columns are the common case: no Python object per row for them.
    keys = _pylist_or_nones(batch.column(0), n)
    stamps = _pylist_or_nones(batch.column(2), n)
    maps = batch.column(3)
    if maps.offsets[0] == maps.offsets[-1]:
        return [
            Record(value=v, key=k, timestamp=t)
            for k, v, t in zip(keys, values, stamps, strict=True)
        ]
    metas = maps.to_pylist()
    return [
        Record(value=v, key=k, timestamp=t, metadata=dict(m) if m else {})
        for k, v, t, m in zip(keys, values, stamps, metas, strict=True)
    ]


def _pylist_or_nones(column: pa.Array[Any], n: int) -> list[Any]:
    return [None] * n if column.null_count == n else column.to_pylist()


def record_at(batch: pa.RecordBatch, index: int) -> Record:
    """Row `index` of `batch` as a `Record` (for an error report or a dead letter)."""
    return to_records(batch.slice(index, 1))[0]


@dataclass(frozen=True, slots=True)
class FilterResult:
    """A filter's answer for a batch."""

    keep: pa.BooleanArray
    """One entry per record; false at failed records."""
    errors: Mapping[int, RecordError] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransformResult:
    """A transform's answer for a batch."""

    batch: pa.RecordBatch
    """One row per input record; rows at failed records are placeholders to ignore."""
    errors: Mapping[int, RecordError] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FoldResult:
    """An aggregate's answer for a batch: the new accumulator and the records not folded."""

    accumulator: bytes
    errors: Mapping[int, RecordError] = field(default_factory=dict)


class Pending:
    """A source has nothing now but may later (0.2 `read-outcome.pending`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


class EndOfStream:
    """A source has reached the end of its stream (0.2 `read-outcome.end`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


PENDING: Final = Pending()
END: Final = EndOfStream()
