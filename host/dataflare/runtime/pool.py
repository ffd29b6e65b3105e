"""Instance pools: pre-instantiated plugins reused across batches, run on threads.

A pool holds `size` members made by one factory (typically a configured
`WasmFilter`/`WasmTransform` adapter over one `LoadedComponent`, so every
member shares the compiled component, itself loaded through the on-disk
compile cache). Each member owns one store and is used by one thread at a
time; a member whose guest traps replaces its store itself (`PluginInstance`)
and stays in the pool.

ctypes releases the GIL while wasm runs, so members called from different
threads run their guests in parallel. `pooled_batch` splits one batch into
contiguous chunks, one per member, and concatenates the per-chunk results in
input order, so record order is preserved. A member that answers a chunk
with the wrong number of outcomes stops the run with `BatchContractError`,
worded like the error a single instance gets for the same mistake.
`pooled_columns` does the same for a columnar batch (an Arrow RecordBatch,
sliced without copies): the members' keep arrays or output batches are
concatenated and their sparse error indices shifted by where each chunk starts.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from dataflare.errors import BatchContractError

__all__ = [
    "InstancePool",
    "PooledPlugin",
    "chunks",
    "default_size",
    "pooled_batch",
    "pooled_columns",
    "pooled_loader",
]

P = TypeVar("P")
A = TypeVar("A")
R = TypeVar("R")


def default_size() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class InstancePool(Generic[P]):
    """`size` members from `make()`, handed to one thread at a time.

    `run(fn, items)` calls `fn(member, item)` for every item on a thread
    pool sized like the pool and returns the results in item order. Members
    with a `close()` method are closed by `close()`.
    """

    def __init__(self, make: Callable[[], P], size: int | None = None) -> None:
        self.size = size or default_size()
        if self.size < 1:
            raise ValueError(f"pool size must be at least 1, got {self.size}")
        self.members: list[P] = []
        try:
            for _ in range(self.size):
                self.members.append(make())
        except BaseException:
            self._close_members()
            raise
        self._free: queue.SimpleQueue[P] = queue.SimpleQueue()
        for member in self.members:
            self._free.put(member)
        self._threads = (
            ThreadPoolExecutor(self.size, thread_name_prefix="dataflare-pool")
            if self.size > 1
            else None
        )
        self._closed = False
        self._lock = threading.Lock()

    def run(self, fn: Callable[[P, A], R], items: Sequence[A]) -> list[R]:
        """`fn(member, item)` for each item, in parallel across members; results in order.

        The first exception (in item order) is re-raised after every item
        has finished, so no member is still in use when it propagates.
        """
        if self._closed:
            raise ValueError("instance pool is closed")
        if self._threads is None or len(items) <= 1:
            return [self._with_member(fn, item) for item in items]
        futures = [self._threads.submit(self._with_member, fn, item) for item in items]
        errors = [f.exception() for f in futures]  # waits for all of them
        for exc in errors:
            if exc is not None:
                raise exc
        return [f.result() for f in futures]

    def _with_member(self, fn: Callable[[P, A], R], item: A) -> R:
        member = self._free.get()
        try:
            return fn(member, item)
        finally:
            self._free.put(member)

    def close(self) -> None:
        """Stop the threads and close every member; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._threads is not None:
            self._threads.shutdown(wait=True)
        self._close_members()

    def _close_members(self) -> None:
        for member in self.members:
            close = getattr(member, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> InstancePool[P]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chunks(items: Sequence[A], parts: int) -> list[Sequence[A]]:
    """`items` cut into at most `parts` contiguous, near-equal, non-empty slices."""
    parts = max(1, min(parts, len(items)))
    step, extra = divmod(len(items), parts)
    out: list[Sequence[A]] = []
    start = 0
    for i in range(parts):
        end = start + step + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def pooled_batch(
    pool: InstancePool[P],
    records: Sequence[A],
    call: Callable[[P, Sequence[A]], Sequence[Any]],
    *,
    min_chunk: int = 1,
    max_chunk: int | None = None,
    stage: str | None = None,
) -> list[Any]:
    """One batch call split across the pool's members; the outputs concatenated in order.

    `call(member, chunk)` must return one output per record of its chunk
    (as every `*_batch` world function does); a shorter or longer answer
    raises `BatchContractError` naming `stage`. Chunks hold at least `min_chunk` records (a small
    batch is not worth a thread hand-off per record) and at most `max_chunk`
    (wasmtime's per-record cost grows with the size of one call's values).
    """
    count = min(pool.size, max(1, len(records) // max(1, min_chunk)))
    if max_chunk is not None:
        count = max(count, -(-len(records) // max(1, max_chunk)))
    parts = chunks(records, count)
    results = pool.run(call, parts)
    out: list[Any] = []
    for part, result in zip(parts, results, strict=True):
        # Checked per chunk: one member's extra outcome and another's missing
        # one would add up to the right total yet shift records onto others' outcomes.
        if len(result) != len(part):
            raise BatchContractError(len(part), len(result), stage)
        out.extend(result)
    return out


def _shifted(errors: Mapping[int, Any], start: int) -> dict[int, Any]:
    return {start + i: e for i, e in errors.items()}


def pooled_columns(
    pool: InstancePool[P],
    batch: Any,
    call: Callable[[P, Any], Any],
    *,
    min_chunk: int = 1,
    max_chunk: int | None = None,
    stage: str | None = None,
) -> Any:
    """One columnar call (`filter_columns` or `transform_columns`) split across the pool.

    `batch` is cut into zero-copy slices like `pooled_batch` cuts a list;
    `call(member, slice)` returns a `FilterResult` or a `TransformResult`,
    whose rows must number the slice's (else `BatchContractError` naming
    `stage`). The results are joined in order: keep arrays or output batches
    concatenated, error indices moved to the whole batch's positions.
    """
    import pyarrow as pa

    from dataflare.columns import FilterResult, TransformResult

    n = batch.num_rows
    count = min(pool.size, max(1, n // max(1, min_chunk)))
    if max_chunk is not None:
        count = max(count, -(-n // max(1, max_chunk)))
    parts = chunks(batch, count)
    results = pool.run(call, parts)
    errors: dict[int, Any] = {}
    start = 0
    for part, result in zip(parts, results, strict=True):
        rows = len(result.keep) if isinstance(result, FilterResult) else result.batch.num_rows
        if rows != len(part):
            raise BatchContractError(len(part), rows, stage)
        errors.update(_shifted(result.errors, start))
        start += len(part)
    if len(results) == 1:
        return results[0]
    if all(isinstance(r, FilterResult) for r in results):
        return FilterResult(pa.concat_arrays([r.keep for r in results]), errors)
    return TransformResult(pa.concat_batches([r.batch for r in results]), errors)


class PooledPlugin:
    """A filter or transform plugin made of `size` identical members on a thread pool.

    `filter_batch`/`transform_batch` split each batch across the members and
    keep record order; single-record calls go to any free member. When the
    members have the columnar methods (`filter_columns`, `transform_columns`),
    so does the pool, and it splits a columnar batch the same way; otherwise
    it has none, so callers that look for them fall back to the record ones.
    `make()` must return an unconfigured plugin (e.g. `WasmFilter(loaded)`
    over one shared `LoadedComponent`); `configure` is applied to every member.
    """

    _COLUMNS = ("filter_columns", "transform_columns")

    def __init__(
        self,
        make: Callable[[], Any],
        size: int | None = None,
        *,
        min_chunk: int = 32,
        max_chunk: int | None = 64,
        stage: str | None = None,
    ) -> None:
        self.pool: InstancePool[Any] = InstancePool(make, size)
        self.stage = stage
        """The pipeline stage id, for errors."""
        # Measured on the Rust echo guest: the C-side cost per record at 64
        # records per call is ~60% of that at 1024 (bench/run.py, (b) floor).
        self.min_chunk = min_chunk
        self.max_chunk = max_chunk

    def describe(self) -> Any:
        """The first member's description (all members are the same plugin)."""
        return self.pool.run(lambda m, _: m.describe(), [None])[0]

    def configure(self, config: Any) -> None:
        """Configure every member; the first failure is raised."""
        for member in self.pool.members:
            member.configure(config)

    def filter(self, record: Any) -> Any:
        """One record through any free member."""
        return self.pool.run(lambda m, r: m.filter(r), [record])[0]

    def filter_batch(self, records: Sequence[Any]) -> list[Any]:
        """One outcome per record, in order, from the members in parallel."""
        return pooled_batch(
            self.pool,
            records,
            lambda m, c: m.filter_batch(c),
            min_chunk=self.min_chunk,
            max_chunk=self.max_chunk,
            stage=self.stage,
        )

    def transform(self, record: Any) -> Any:
        """One record through any free member."""
        return self.pool.run(lambda m, r: m.transform(r), [record])[0]

    def transform_batch(self, records: Sequence[Any]) -> list[Any]:
        """One outcome per record, in order, from the members in parallel."""
        return pooled_batch(
            self.pool,
            records,
            lambda m, c: m.transform_batch(c),
            min_chunk=self.min_chunk,
            max_chunk=self.max_chunk,
            stage=self.stage,
        )

    def __getattr__(self, name: str) -> Any:
        # Only for the columnar methods, and only when the members have them.
        if (
            name in PooledPlugin._COLUMNS
            and "pool" in self.__dict__
            and hasattr(self.pool.members[0], name)
        ):
            return lambda batch: self._columns(name, batch)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _columns(self, method: str, batch: Any) -> Any:
        """The members' `method` over slices of `batch`, joined in order.

        One slice per member at most (`max_chunk` is not applied): a 0.2
        call's cost per record does not grow with the batch, as a 0.1 call's
        per-value conversions did.
        """
        return pooled_columns(
            self.pool,
            batch,
            lambda m, c: getattr(m, method)(c),
            min_chunk=self.min_chunk,
            stage=self.stage,
        )

    def close(self) -> None:
        """Close every member; safe to call twice."""
        self.pool.close()


def pooled_loader(
    loader: Callable[[Any, Any, Any, Any], Any], size: int | None = None
) -> Callable[[Any, Any, Any, Any], Any]:
    """Wrap a pipeline `WasmLoader` so filter and transform stages get a `PooledPlugin`.

    Each member comes from `loader` itself, so it has the stage's limits and
    grants; members share the compiled component through the compile cache.
    Opt-in per stage: a plugin that keeps state across records (say, a
    de-duplicating filter) would see only its members' share of them. Other
    kinds, and a size of 1, get the plain plugin.
    """
    from dataflare.model import PluginKind

    def load(path: Any, kind: Any, name: Any, stage: Any) -> Any:
        members = size or default_size()
        if kind not in (PluginKind.FILTER, PluginKind.TRANSFORM) or members == 1:
            return loader(path, kind, name, stage)
        return PooledPlugin(lambda: loader(path, kind, name, stage), members, stage=stage)

    return load
