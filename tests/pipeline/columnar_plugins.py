"""Native plugins written on Arrow batches (the opt-in columnar API), for the executor tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pyarrow as pa
from dataflare.columns import (
    END,
    PENDING,
    EndOfStream,
    FilterResult,
    Pending,
    RecordError,
    TransformResult,
    from_records,
    from_values,
)
from dataflare.errors import GuestTrap, ProcessingError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import (
    FilterColumnsBase,
    SinkColumnsBase,
    SourceBase,
    TransformColumnsBase,
)
from dataflare.plugins.registry import register


def numbers(batch: pa.RecordBatch) -> list[int]:
    return [json.loads(v)["n"] for v in batch.column(1).to_pylist()]


@register("filter", "test_col_even")
class ColEven(FilterColumnsBase):
    """Keeps even `n`; fails (ProcessingError) rows whose `n` is a multiple of `fail_every`."""

    params = (ParamInfo("fail_every", default="0"),)
    CALLS: ClassVar[list[int]] = []

    def filter_columns(self, batch: pa.RecordBatch) -> FilterResult:
        ColEven.CALLS.append(batch.num_rows)
        every = int(self.param("fail_every"))
        ns = numbers(batch)
        errors: dict[int, RecordError] = {
            i: ProcessingError(f"n={n} fails") for i, n in enumerate(ns) if every and n % every == 0
        }
        keep = [n % 2 == 0 and i not in errors for i, n in enumerate(ns)]
        return FilterResult(pa.array(keep), errors)


@register("filter", "test_col_trap")
class ColTrap(FilterColumnsBase):
    """Traps on every batch holding n == `at` (as a WASM guest would); keeps everything else."""

    params = (ParamInfo("at", default="3"),)
    BUFFERS: ClassVar[list[int]] = []
    """The address of the value bytes of every batch it was called with."""

    def filter_columns(self, batch: pa.RecordBatch) -> FilterResult:
        ColTrap.BUFFERS.append(batch.column(1).buffers()[2].address)
        if int(self.param("at")) in numbers(batch):
            raise GuestTrap("wasm trap: unreachable")
        return FilterResult(pa.array(np.ones(batch.num_rows, bool)))


@register("transform", "test_col_square")
class ColSquare(TransformColumnsBase):
    """Adds `sq` = n*n, keeping key, timestamp and metadata."""

    def transform_columns(self, batch: pa.RecordBatch) -> TransformResult:
        values = []
        for n in numbers(batch):
            values.append(json.dumps({"n": n, "sq": n * n}).encode())
        return TransformResult(batch.set_column(1, "value", pa.array(values, pa.binary())))


@register("sink", "test_col_sink")
class ColSink(SinkColumnsBase):
    """Keeps every batch it is given; fails values containing `reject`."""

    params = (ParamInfo("reject", default=""),)
    BATCHES: ClassVar[list[pa.RecordBatch]] = []

    def write_columns(self, batch: pa.RecordBatch) -> Mapping[int, RecordError]:
        reject = self.param("reject").encode()
        values = batch.column(1).to_pylist()
        errors = {
            i: ProcessingError("rejected") for i, v in enumerate(values) if reject and reject in v
        }
        ColSink.BATCHES.append(batch)
        return errors


@register("source", "test_col_pending")
class ColPending(SourceBase):
    """Columnar source of {"n": i} for i < `count`, answering PENDING `pending` times per batch."""

    params = (ParamInfo("count", default="10"), ParamInfo("pending", default="2"))
    ANSWERS: ClassVar[list[str]] = []

    def connect(self) -> None:
        self._next = 0
        self._waits = 0

    def read(self, max_records: int) -> list[Record]:
        raise AssertionError("the executor reads a columnar source in columns")

    def read_columns(self, max_records: int) -> pa.RecordBatch | Pending | EndOfStream:
        count = int(self.param("count"))
        if self._next >= count:
            ColPending.ANSWERS.append("end")
            return END
        if self._waits < int(self.param("pending")):
            self._waits += 1
            ColPending.ANSWERS.append("pending")
            return PENDING
        self._waits = 0
        end = min(count, self._next + max_records)
        values = [json.dumps({"n": i}).encode() for i in range(self._next, end)]
        self._next = end
        ColPending.ANSWERS.append("batch")
        return from_values(pa.array(values, pa.binary()))


@register("source", "test_col_forever")
class ColForever(SourceBase):
    """A columnar source that never has anything (PENDING for ever)."""

    def read(self, max_records: int) -> list[Record]:
        raise AssertionError("unused")

    def read_columns(self, max_records: int) -> pa.RecordBatch | Pending | EndOfStream:
        return PENDING


__all__ = ["ColEven", "ColPending", "ColSink", "ColSquare", "ColTrap", "from_records"]
