"""`workers: N` splits columnar calls too: zero-copy slices, results joined in order."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pytest
from dataflare.columns import FilterResult, TransformResult, from_records, to_records
from dataflare.errors import BatchContractError, ProcessingError
from dataflare.model import Record
from dataflare.runtime.pool import PooledPlugin
from hypothesis import given
from hypothesis import strategies as st


class Columnar:
    """A filter and transform over columns: keeps even-length values, fails on b"x"."""

    def __init__(self, extra: int = 0) -> None:
        self.extra = extra
        self.seen: list[int] = []

    def configure(self, config: Mapping[str, str]) -> None:
        pass

    def _errors(self, batch: pa.RecordBatch) -> dict[int, ProcessingError]:
        return {
            i: ProcessingError(f"bad {v!r}")
            for i, v in enumerate(batch.column(1).to_pylist())
            if v == b"x"
        }

    def filter_columns(self, batch: pa.RecordBatch) -> FilterResult:
        self.seen.append(batch.num_rows)
        errors = self._errors(batch)
        keep = [
            len(v) % 2 == 0 and i not in errors for i, v in enumerate(batch.column(1).to_pylist())
        ]
        return FilterResult(pa.array(keep + [True] * self.extra, pa.bool_()), errors)

    def transform_columns(self, batch: pa.RecordBatch) -> TransformResult:
        out = [Record(value=r.value.upper(), key=r.key) for r in to_records(batch)]
        return TransformResult(from_records(out + out[: self.extra]), self._errors(batch))

    def close(self) -> None:
        pass


class RecordsOnly:
    def filter_batch(self, records: list[Record]) -> list[bool]:
        return [True] * len(records)

    def close(self) -> None:
        pass


values = st.lists(st.sampled_from([b"", b"a", b"bb", b"x", b"ccc", b"dddd"]), max_size=40)


@given(values, st.integers(1, 4), st.integers(1, 8))
def test_pooled_columns_equal_one_members_answer(
    vals: list[bytes], size: int, min_chunk: int
) -> None:
    batch = from_records([Record(value=v, key=b"k") for v in vals])
    one = Columnar()
    pooled = PooledPlugin(Columnar, size, min_chunk=min_chunk, max_chunk=2)
    try:
        want_f = one.filter_columns(batch)
        got_f = pooled.filter_columns(batch)
        assert got_f.keep.to_pylist() == want_f.keep.to_pylist()
        assert {i: str(e) for i, e in got_f.errors.items()} == {
            i: str(e) for i, e in want_f.errors.items()
        }
        want_t = one.transform_columns(batch)
        got_t = pooled.transform_columns(batch)
        assert to_records(got_t.batch) == to_records(want_t.batch)
        assert sorted(got_t.errors) == sorted(want_t.errors)
        # Every member got a contiguous slice; no more slices than members.
        seen = [n for m in pooled.pool.members for n in m.seen]
        assert sum(seen) == len(vals) and len(seen) <= size
    finally:
        pooled.close()


def test_a_member_answering_the_wrong_count_stops_the_run() -> None:
    pooled = PooledPlugin(lambda: Columnar(extra=1), 2, min_chunk=1, stage="f")
    batch = from_records([Record(value=b"aa")] * 4)
    try:
        with pytest.raises(BatchContractError, match="stage 'f' broke the batch contract"):
            pooled.filter_columns(batch)
        with pytest.raises(BatchContractError, match="returned 3 outcomes for a batch of 2"):
            pooled.transform_columns(batch)
    finally:
        pooled.close()


def test_members_without_columnar_methods_give_a_pool_without_them() -> None:
    pooled = PooledPlugin(RecordsOnly, 2)
    try:
        assert not hasattr(pooled, "filter_columns")
        assert not hasattr(pooled, "transform_columns")
        assert pooled.filter_batch([Record(value=b"a")] * 3) == [True] * 3
    finally:
        pooled.close()
    columnar = PooledPlugin(Columnar, 2)
    try:
        assert hasattr(columnar, "filter_columns") and hasattr(columnar, "transform_columns")
        assert not hasattr(columnar, "write_columns")
    finally:
        columnar.close()
