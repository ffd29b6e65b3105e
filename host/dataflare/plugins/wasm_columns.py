"""Adapters for `dataflare:plugin@0.2.0` components: columnar calls, and the record protocols.

Each adapter has the agreed columnar methods (`filter_columns`,
`transform_columns`, `write_columns`, `aggregate_columns`, `merge`,
`read_columns`), which move an Arrow batch (`dataflare.columns`) to the
guest as one WIT `batch` per call, and the per-record protocol methods of
`dataflare.plugins.kinds` (`filter_batch(list[Record])`, ...), which go
through the columnar ones, so existing callers keep working.

Everything `dataflare.plugins.wasm` says of 0.1 adapters holds here too:
`configure` (and `connect`, and a source's last position) is replayed after
a trap; batch calls are cut by bytes, now with the 0.2 bound
(`call_bounds.call_bytes_v2`), and a record too big for one call gets a
`RecordTooLarge` in its slot; limits, timeouts and traps are the runtime's.
Batches cross with their `text` as UTF-8 bytes (`wit_utf8`), never as a
Python `str`. What a guest returns is checked (`wit_columns`); an answer that breaks the
WIT contract raises `GuestContractError` naming the plugin, and none of it
is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from dataflare import columns
from dataflare._wit import aggregate as wit_aggregate
from dataflare._wit import filter as wit_filter
from dataflare._wit import sink as wit_sink
from dataflare._wit import source as wit_source
from dataflare._wit import transform as wit_transform
from dataflare._wit import types as wit
from dataflare.columns import (
    END,
    PENDING,
    EndOfStream,
    FilterResult,
    FoldResult,
    Pending,
    TransformResult,
)
from dataflare.columns import RecordError as ColumnError
from dataflare.errors import GuestContractError, PluginError, RecordTooLarge
from dataflare.model import PluginKind, Record
from dataflare.plugins import wit_utf8
from dataflare.plugins.call_bounds import (
    DEFAULT_MEMORY_BYTES,
    HOST_COST_V2_ROUND_TRIP,
    HOST_COST_V2_SENT,
    MIB,
    RETURN_BYTES_V2,
    call_bytes_v2,
    memory_per_byte_v2,
)
from dataflare.plugins.kinds import BatchFold
from dataflare.plugins.wasm import WasmPlugin, _Connected, _Resumable, _World
from dataflare.plugins.wit_columns import (
    ContractProblem,
    as_binary,
    bitmap_to_keep,
    errors_by_index,
    from_wit_batch,
    to_wit_batch,
    unencodable_rows,
)
from dataflare.plugins.wit_records import (
    record_lowering,
    to_plugin_error,
    unencodable,
    unwrap,
)
from dataflare.runtime import LoadedComponent
from dataflare.runtime.capabilities import Capabilities
from dataflare.runtime.limits import NO_LIMITS, Limits

__all__ = [
    "ADAPTERS",
    "WasmColumnsAggregate",
    "WasmColumnsFilter",
    "WasmColumnsSink",
    "WasmColumnsSource",
    "WasmColumnsTransform",
]

W = TypeVar("W", bound=_World)

to_wit_record = record_lowering(wit.Record)

_PENDING_WAIT = (0.005, 0.2)
"""First and longest sleep (s) of `read` between asks while a source is pending."""


def _pending_sleep(seconds: float) -> None:
    """The wait between asks of a pending source (its own name, so a test can replace it
    without catching every other thread's `time.sleep`)."""
    time.sleep(seconds)


class _Piece:
    """A run of a batch that goes to the guest in one call, or a record too big for any."""

    __slots__ = ("batch", "start", "too_big")

    def __init__(
        self, start: int, batch: pa.RecordBatch | None, too_big: RecordTooLarge | None
    ) -> None:
        self.start = start
        self.batch = batch
        self.too_big = too_big


def _lengths(array: pa.Array[Any]) -> np.ndarray[Any, Any]:
    """The byte length of each item of a binary or string array (0 where null)."""
    array = as_binary(array)
    offsets = np.frombuffer(array.buffers()[1], np.int32, len(array) + 1, array.offset * 4)
    lengths = np.diff(offsets).astype(np.int64)
    if array.null_count:
        lengths[~array.is_valid().to_numpy(zero_copy_only=False)] = 0
    return lengths


def record_bytes(batch: pa.RecordBatch) -> np.ndarray[Any, Any]:
    """Value and key bytes of each record of `batch`: what its text columns carry."""
    sizes = _lengths(batch.column(1))
    keys = batch.column(0)
    if keys.null_count != len(keys):
        sizes += _lengths(keys)
    return sizes


def _metadata_bytes(batch: pa.RecordBatch) -> np.ndarray[Any, Any]:
    """Name and value bytes of each record's metadata."""
    meta = batch.column(3)
    offsets = meta.offsets.to_numpy().astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    if first == last:
        return np.zeros(batch.num_rows, np.int64)
    flat = _lengths(meta.keys[first:last].cast(pa.binary())) + _lengths(
        meta.items[first:last].cast(pa.binary())
    )
    total = np.concatenate([[0], np.cumsum(flat)])
    return total[offsets[1:] - first] - total[offsets[:-1] - first]  # type: ignore[no-any-return]


def _concat(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return columns.empty_batch()
    return pa.concat_batches(parts)


class _Columnar(WasmPlugin[W]):
    """What every 0.2 adapter shares: the 0.2 call bound, cutting batches, checking answers."""

    def __init__(
        self,
        loaded: LoadedComponent,
        *,
        name: str | None = None,
        stage: str | None = None,
        limits: Limits = NO_LIMITS,
        caps: Capabilities | None = None,
        fuel_per_record: int | None = None,
        max_record_bytes: int | None = None,
        max_call_bytes: int | None = None,
    ) -> None:
        """As `WasmPlugin`; `max_call_bytes` bounds the text bytes (values and keys) of a call."""
        super().__init__(
            loaded,
            name=name,
            stage=stage,
            limits=limits,
            caps=caps,
            fuel_per_record=fuel_per_record,
            max_record_bytes=max_record_bytes,
            max_call_bytes=max_call_bytes,
        )
        self._stage = stage
        self.max_call_bytes = max_call_bytes or call_bytes_v2(self.kind, limits.memory_bytes)
        """The most text bytes (values and keys) one batch call sends."""

    def _broken(self, problem: ContractProblem | str) -> GuestContractError:
        return GuestContractError(self._instance.name, str(problem), self._stage)

    def _pieces(self, batch: pa.RecordBatch, overhead: int = 0) -> Iterator[_Piece]:
        """`batch` cut into zero-copy slices of at most `max_call_bytes` (less `overhead`).

        A call still takes at least one record (as in 0.1, an aggregate's big
        accumulator never stops records from being folded); a record over the
        bound on its own is not sent (its piece carries the `RecordTooLarge`).
        """
        n = batch.num_rows
        bound = self.max_call_bytes
        sizes = record_bytes(batch)
        if overhead + int(sizes.sum()) <= bound:  # the common case: one call, no copies
            yield _Piece(0, batch, None)
            return
        ends = np.cumsum(sizes)
        start = 0
        while start < n:
            if int(sizes[start]) > bound:
                yield _Piece(start, None, self._too_big(int(sizes[start])))
                start += 1
                continue
            before = int(ends[start - 1]) if start else 0
            stop = int(np.searchsorted(ends, before + bound - overhead, side="right"))
            stop = max(stop, start + 1)
            # The run stops before the next record too big on its own.
            big = np.flatnonzero(sizes[start:stop] > bound)
            if len(big):
                stop = start + int(big[0])
            yield _Piece(start, batch.slice(start, stop - start), None)
            start = stop

    def _too_big(self, size: int) -> RecordTooLarge:
        """The outcome of a record whose value and key cannot cross in one call."""
        bound = self.max_call_bytes
        head = (
            f"plugin {self._instance.name!r}: a record of {size} bytes (value and key) is over"
            f" the {bound}-byte bound of one WASM call"
        )
        if self.kind is PluginKind.TRANSFORM and size > RETURN_BYTES_V2:
            return RecordTooLarge(
                f"{head}; a transform cannot return more than {RETURN_BYTES_V2} bytes per call"
                " (wasmtime's hostcall copy limit), so raising limits.memory_mb does not help",
                limit="call_bytes",
                value=bound,
            )
        cost = HOST_COST_V2_ROUND_TRIP if self.kind is PluginKind.TRANSFORM else HOST_COST_V2_SENT
        memory = self._memory_bytes
        now = (DEFAULT_MEMORY_BYTES if memory is None else memory) // MIB
        need = -(-size * memory_per_byte_v2(self.kind) // MIB)
        return RecordTooLarge(
            f"{head} (host memory per call is about {cost}x the bytes sent and is held "
            f"under limits.memory_mb, now {now}); raise limits.memory_mb to at least "
            f"{need} to let it through",
            limit="call_bytes",
            value=bound,
        )

    def _errors(self, errors: Sequence[wit.RecordError], n: int) -> dict[int, ColumnError]:
        try:
            return dict(errors_by_index(errors, n, to_plugin_error))
        except ContractProblem as exc:
            raise self._broken(exc) from None

    def _batch_of(self, batch: wit.Batch, records: int | None = None) -> pa.RecordBatch:
        try:
            return from_wit_batch(batch, records)
        except ContractProblem as exc:
            raise self._broken(exc) from None

    def _oversized(self, batch: pa.RecordBatch) -> np.ndarray[Any, Any]:
        """Indices of the records of a returned batch over `max_record_bytes` (none if unset)."""
        limit = self._max_record_bytes
        if limit is None:
            return np.zeros(0, np.int64)
        sizes = record_bytes(batch) + _metadata_bytes(batch)
        return np.flatnonzero(sizes > limit)

    def _returned_too_big(self, size: int) -> RecordTooLarge:
        limit = self._max_record_bytes
        return RecordTooLarge(
            f"plugin {self._instance.name!r} returned a record of {size} bytes; "
            f"limit max_record_bytes={limit}",
            limit="max_record_bytes",
            value=limit,
        )

    def _check_returned(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """A batch the guest returned whole; `RecordTooLarge` for a record over the limit."""
        big = self._oversized(batch)
        if len(big):
            i = int(big[0])
            size = int((record_bytes(batch) + _metadata_bytes(batch))[i])
            raise self._returned_too_big(size)
        return batch

    def _records_of(self, batch: pa.RecordBatch) -> list[Record]:
        """The records of a batch the guest returned whole; `RecordTooLarge` for one too big."""
        return columns.to_records(self._check_returned(batch))


# A call's function, made outside the loop that sends it (each binds its own batch).
def _fold(acc: bytes, batch: wit.Batch) -> Callable[[wit_aggregate.Aggregate], wit.FoldOutcome]:
    return lambda w: w.aggregate_batch(acc, batch)


def _write(batch: wit.Batch) -> Callable[[wit_sink.Sink], list[wit.RecordError]]:
    return lambda w: w.write_batch(batch)


def _read(ask: int) -> Callable[[wit_source.Source], Any]:
    return lambda w: w.read(ask)


def _as_batch(
    records: Sequence[Record],
) -> tuple[pa.RecordBatch, dict[int, PluginError], list[int]]:
    """The records as a batch, leaving out those whose metadata cannot be UTF-8.

    Returns the batch, the errors of the records left out by index, and the
    input index of each batch row. Checking every string up front would tax
    every batch, so the check runs only after Arrow refused one.
    """
    try:
        return columns.from_records(records), {}, list(range(len(records)))
    except (UnicodeEncodeError, pa.ArrowException):
        pass
    bad: dict[int, PluginError] = {}
    for i, r in enumerate(records):
        error = unencodable(r)
        if error is not None:
            bad[i] = error
    rows = [i for i in range(len(records)) if i not in bad]
    return columns.from_records([records[i] for i in rows]), bad, rows


class _Screened:
    """A batch with the records whose metadata cannot be UTF-8 left out, to fail alone.

    `rows` is the input row of each row of `batch`; `errors` the records
    left out, by input row. Only made when `unencodable_rows` found some.
    """

    __slots__ = ("batch", "errors", "n", "rows")

    def __init__(self, batch: pa.RecordBatch, bad: list[int]) -> None:
        self.n = batch.num_rows
        mask = np.ones(self.n, np.bool_)
        mask[bad] = False
        self.rows = np.flatnonzero(mask)
        self.batch = batch.filter(pa.array(mask))
        self.errors: dict[int, ColumnError] = {}
        for i in bad:
            error = unencodable(columns.record_at(batch, i))
            assert error is not None, i
            self.errors[i] = error

    def spread(self, errors: Mapping[int, ColumnError]) -> dict[int, ColumnError]:
        """`errors` of the screened batch by input row, with the records left out."""
        rows = self.rows
        spread = {int(rows[i]): e for i, e in errors.items()}
        spread.update(self.errors)
        return dict(sorted(spread.items()))

    def keep(self, keep: pa.BooleanArray) -> pa.BooleanArray:
        """A screened batch's decisions by input row, false where left out."""
        out = np.zeros(self.n, np.bool_)
        out[self.rows] = keep.to_numpy(zero_copy_only=False)
        return pa.array(out, pa.bool_())

    def outputs(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """A screened batch's output rows by input row, an empty placeholder where left out."""
        left_out = len(self.errors)
        order = np.empty(self.n, np.int64)
        order[self.rows] = np.arange(len(self.rows))
        order[sorted(self.errors)] = len(self.rows) + np.arange(left_out)
        filler = columns.from_records([Record(value=b"")] * left_out)
        return pa.concat_batches([batch, filler]).take(pa.array(order))


def _screen(batch: pa.RecordBatch) -> _Screened | None:
    """None for the usual batch (every metadata string is UTF-8), else what to leave out."""
    bad = unencodable_rows(batch)
    return _Screened(batch, bad) if bad else None


class WasmColumnsFilter(_Columnar[wit_filter.Filter]):
    """A `FilterPlugin` (and columnar filter) backed by a 0.2 component of world `filter`."""

    kind = PluginKind.FILTER
    _world_type = wit_utf8.Filter

    def filter(self, record: Record) -> bool:
        """True keeps the record."""
        wr = to_wit_record(record)
        return unwrap(self._call_one(record, lambda w: w.filter(wr)))

    def filter_columns(self, batch: pa.RecordBatch) -> FilterResult:
        """One decision per record (false where it failed) and the failures, by index."""
        screened = _screen(batch)
        if screened is not None:
            inner = self.filter_columns(screened.batch)
            return FilterResult(screened.keep(inner.keep), screened.spread(inner.errors))
        keeps: list[pa.BooleanArray] = []
        errors: dict[int, ColumnError] = {}
        for piece in self._pieces(batch):
            if piece.batch is None:
                keeps.append(pa.array([False]))
                assert piece.too_big is not None
                errors[piece.start] = piece.too_big
                continue
            keep, errs = self._filter_piece(piece.batch)
            keeps.append(keep)
            errors.update((piece.start + i, e) for i, e in errs.items())
        keep = keeps[0] if len(keeps) == 1 else pa.concat_arrays(keeps)
        return FilterResult(keep=keep, errors=errors)

    def _filter_piece(
        self, batch: pa.RecordBatch
    ) -> tuple[pa.BooleanArray, dict[int, ColumnError]]:
        n = batch.num_rows
        wb = to_wit_batch(batch)
        out = self._call(lambda w: w.filter_batch(wb), n)
        errors = self._errors(out.errors, n)
        try:
            return bitmap_to_keep(out.keep, n, sorted(errors)), errors
        except ContractProblem as exc:
            raise self._broken(exc) from None

    def filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        """One decision or error per record, through `filter_columns`."""
        batch, bad, rows = _as_batch(records)
        result = self.filter_columns(batch)
        out: list[bool | PluginError] = [False] * len(records)
        for i, left_out in bad.items():
            out[i] = left_out
        errors = result.errors
        for row, (i, keep) in enumerate(zip(rows, result.keep.to_pylist(), strict=True)):
            failed = errors.get(row)
            out[i] = _plugin_error(failed) if failed is not None else bool(keep)
        return out


def _plugin_error(error: ColumnError) -> PluginError:
    # Per-record errors from a guest are always PluginErrors; a GuestTrap fails the call.
    assert isinstance(error, PluginError), error
    return error


class WasmColumnsTransform(_Columnar[wit_transform.Transform]):
    """A `TransformPlugin` (and columnar transform) backed by a 0.2 `transform` component."""

    kind = PluginKind.TRANSFORM
    _world_type = wit_utf8.Transform

    def transform(self, record: Record) -> Record:
        """The new record."""
        wr = to_wit_record(record)
        return self._checked(unwrap(self._call_one(record, lambda w: w.transform(wr))))

    def transform_columns(self, batch: pa.RecordBatch) -> TransformResult:
        """One output row per record (placeholders where it failed) and the failures."""
        screened = _screen(batch)
        if screened is not None:
            inner = self.transform_columns(screened.batch)
            return TransformResult(screened.outputs(inner.batch), screened.spread(inner.errors))
        parts: list[pa.RecordBatch] = []
        errors: dict[int, ColumnError] = {}
        for piece in self._pieces(batch):
            if piece.batch is None:
                parts.append(columns.from_records([Record(value=b"")]))
                assert piece.too_big is not None
                errors[piece.start] = piece.too_big
                continue
            out, errs = self._transform_piece(piece.batch)
            parts.append(out)
            errors.update((piece.start + i, e) for i, e in errs.items())
        return TransformResult(batch=_concat(parts), errors=errors)

    def _transform_piece(
        self, batch: pa.RecordBatch
    ) -> tuple[pa.RecordBatch, dict[int, ColumnError]]:
        n = batch.num_rows
        wb = to_wit_batch(batch)
        out = self._call(lambda w: w.transform_batch(wb), n)
        errors = self._errors(out.errors, n)
        result = self._batch_of(out.records, n)
        big = self._oversized(result)
        if len(big):
            sizes = record_bytes(result) + _metadata_bytes(result)
            for i in big.tolist():
                if i not in errors:
                    errors[i] = self._returned_too_big(int(sizes[i]))
        return result, dict(sorted(errors.items()))

    def transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        """One new record or error per record, through `transform_columns`."""
        batch, bad, rows = _as_batch(records)
        result = self.transform_columns(batch)
        outputs = columns.to_records(result.batch)
        out: list[Record | PluginError] = [Record(value=b"")] * len(records)
        for i, left_out in bad.items():
            out[i] = left_out
        errors = result.errors
        for row, i in enumerate(rows):
            failed = errors.get(row)
            out[i] = _plugin_error(failed) if failed is not None else outputs[row]
        return out


class WasmColumnsAggregate(_Columnar[wit_aggregate.Aggregate]):
    """An `AggregatePlugin` (with columnar folds and `merge`) backed by a 0.2 component."""

    kind = PluginKind.AGGREGATE
    _world_type = wit_utf8.Aggregate

    def init(self) -> bytes:
        """The empty accumulator."""
        return self._call(lambda w: w.init())

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        """Fold one record in."""
        wr = to_wit_record(record)
        return unwrap(self._call_one(record, lambda w: w.aggregate(acc, wr)))

    def aggregate_columns(self, acc: bytes, batch: pa.RecordBatch) -> FoldResult:
        """Fold a batch in calls cut by bytes; failed records are left out of the fold.

        The accumulator crosses both ways on every call, so its size counts
        against each call's bound (a call still takes at least one record).
        """
        screened = _screen(batch)
        if screened is not None:
            inner = self.aggregate_columns(acc, screened.batch)
            return FoldResult(inner.accumulator, screened.spread(inner.errors))
        errors: dict[int, ColumnError] = {}
        start = 0
        n = batch.num_rows
        while start < n:
            # Cut again after each call: the accumulator may have grown.
            rest = batch.slice(start)
            piece = next(self._pieces(rest, overhead=len(acc)))
            if piece.batch is None:
                assert piece.too_big is not None
                errors[start] = piece.too_big
                start += 1
                continue
            part = piece.batch
            wb = to_wit_batch(part)
            fold = self._call(_fold(acc, wb), part.num_rows)
            errs = self._errors(fold.errors, part.num_rows)
            acc = fold.accumulator
            errors.update((start + i, e) for i, e in errs.items())
            start += part.num_rows
        return FoldResult(accumulator=acc, errors=errors)

    def aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        """Fold records in order through `aggregate_columns`; failed records are left out."""
        batch, bad, rows = _as_batch(records)
        result = self.aggregate_columns(acc, batch)
        out: list[PluginError | None] = [None] * len(records)
        for i, left_out in bad.items():
            out[i] = left_out
        for row, failed in result.errors.items():
            out[rows[row]] = _plugin_error(failed)
        return result.accumulator, out

    def merge(self, a: bytes, b: bytes) -> bytes:
        """One accumulator standing for everything `a` and `b` stand for."""
        return unwrap(self._call(lambda w: w.merge(a, b)))

    def emit_columns(self, acc: bytes) -> pa.RecordBatch:
        """The records the final accumulator stands for, as a batch."""
        return self._check_returned(self._batch_of(unwrap(self._call(lambda w: w.emit(acc)))))

    def emit(self, acc: bytes) -> list[Record]:
        """The records the final accumulator stands for."""
        return self._records_of(self._batch_of(unwrap(self._call(lambda w: w.emit(acc)))))


class WasmColumnsSource(_Resumable[wit_source.Source], _Columnar[wit_source.Source]):
    """A `SourcePlugin` (and columnar source) backed by a 0.2 component of world `source`."""

    kind = PluginKind.SOURCE
    _world_type = wit_utf8.Source

    _largest = 0  # the most text bytes one record read so far carried

    def read_columns(self, max_records: int) -> pa.RecordBatch | Pending | EndOfStream:
        """Up to `max_records` records (at least one), `PENDING`, or `END`.

        The records may come from several guest calls: each asks for no more
        records than the largest one seen so far says fit in `read_bytes`
        (the first asks for one). A call that returns fewer than asked, or
        says pending or end, ends the read; what was read is returned first.
        """
        if not 1 <= max_records < 1 << 32:
            raise ValueError(f"max_records must be in 1..2**32-1, got {max_records}")
        parts: list[pa.RecordBatch] = []
        got = 0
        while got < max_records:
            want = max_records - got
            ask = max(1, min(want, self.read_bytes // self._largest)) if self._largest else 1
            outcome = unwrap(self._call(_read(ask), ask))
            if isinstance(outcome, wit.ReadOutcomeRecords):
                batch = self._batch_of(outcome.value)
                if not 1 <= batch.num_rows <= ask:
                    raise self._broken(
                        f"read {batch.num_rows} records when asked for at most {ask}"
                        " (a records outcome holds at least one)"
                    )
                self._largest = max(self._largest, int(record_bytes(batch).max()), 1)
                parts.append(self._check_returned(batch))
                got += batch.num_rows
                if batch.num_rows < ask:
                    break
                continue
            if parts:
                break
            return PENDING if isinstance(outcome, wit.ReadOutcomePending) else END
        return _concat(parts)

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` records; an empty list means end of stream.

        While the guest says pending, this waits and asks again (a record
        protocol caller cannot be told "nothing yet"); `read_columns` returns
        `PENDING` instead.
        """
        if max_records == 0:
            return []
        wait = _PENDING_WAIT[0]
        while True:
            found = self.read_columns(max_records)
            if isinstance(found, EndOfStream):
                return []
            if not isinstance(found, Pending):
                return self._records_of(found)
            _pending_sleep(wait)
            wait = min(wait * 2, _PENDING_WAIT[1])

    @property
    def read_bytes(self) -> int:
        """The text bytes one `read` call aims to stay under."""
        return min(self.max_call_bytes, RETURN_BYTES_V2)


class WasmColumnsSink(_Connected[wit_sink.Sink], _Columnar[wit_sink.Sink]):
    """A `SinkPlugin` (and columnar sink) backed by a 0.2 component of world `sink`."""

    kind = PluginKind.SINK
    _world_type = wit_utf8.Sink

    def write(self, record: Record) -> None:
        """Write one record."""
        wr = to_wit_record(record)
        unwrap(self._call_one(record, lambda w: w.write(wr)))

    def write_columns(self, batch: pa.RecordBatch) -> Mapping[int, ColumnError]:
        """Write a batch in calls cut by bytes; the records that failed, by index."""
        screened = _screen(batch)
        if screened is not None:
            return screened.spread(self.write_columns(screened.batch))
        errors: dict[int, ColumnError] = {}
        for piece in self._pieces(batch):
            if piece.batch is None:
                assert piece.too_big is not None
                errors[piece.start] = piece.too_big
                continue
            n = piece.batch.num_rows
            wb = to_wit_batch(piece.batch)
            written = self._call(_write(wb), n)
            errs = self._errors(written, n)
            errors.update((piece.start + i, e) for i, e in errs.items())
        return errors

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Write records through `write_columns`; None for each success."""
        batch, bad, rows = _as_batch(records)
        errors = self.write_columns(batch)
        out: list[PluginError | None] = [None] * len(records)
        for i, left_out in bad.items():
            out[i] = left_out
        for row, failed in errors.items():
            out[rows[row]] = _plugin_error(failed)
        return out

    def flush(self) -> None:
        """Make every accepted record durable."""
        unwrap(self._call(lambda w: w.flush()))


ADAPTERS: dict[PluginKind, type[WasmPlugin[Any]]] = {
    PluginKind.FILTER: WasmColumnsFilter,
    PluginKind.TRANSFORM: WasmColumnsTransform,
    PluginKind.AGGREGATE: WasmColumnsAggregate,
    PluginKind.SOURCE: WasmColumnsSource,
    PluginKind.SINK: WasmColumnsSink,
}
"""The adapter for each kind of 0.2 component."""
