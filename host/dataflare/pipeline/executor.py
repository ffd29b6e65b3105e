"""Running a plan: read in batches, push each batch through every stage, write, close.

The executor is pull-based: it takes one batch from a source, runs it
through the processors in declared order and writes the survivors to every
sink before it takes the next batch. When some stage runs WebAssembly, each
source reads up to two batches ahead on its own thread
(`dataflare.pipeline.prefetch`), filling the time guest code runs without
the GIL; otherwise sources are read inline. Either way memory is bounded (at
most three batches of `batch_size` records per source), a slow sink slows
the source down instead of filling memory, and no plugin is ever called
from two threads at once (a WASM store must not be). A WASM filter or
transform stage with ``workers: N`` is a `runtime.pool.PooledPlugin`: it
splits each batch call into contiguous chunks run on N instances (one store
each, one thread each) and joins the outcomes in record order, so to the
executor it is one plugin. Several sources are read in turn, one batch each.

Aggregates fold the records that reach them; at end of stream each one, in
declared order, emits its records, which continue through the stages after
it.

A batch call that traps is retried by halves on fresh instances until the
trapping records are alone (`dataflare.pipeline.poison_bisect`); a plugin that
traps on every record is stopped with `PluginStopped`. A record that fails
in a stage (a `PluginError` or trap for that record, a `PluginError` for the
whole batch call it was in, or a limit: kind ``limit``) follows the stage's
``on_error``: ``fail`` stops the run with `StageFailed`, ``skip`` drops it,
``dead_letter`` writes the record as it entered the stage to the named sink
with three metadata entries added: `META_STAGE`, `META_KIND` (the
`plugin-error` case, or ``trap``) and `META_MESSAGE`. Input a source read
but could not decode (the failures of a `SourceColumns`, e.g. a line that is
not JSON) follows the source's ``on_error`` the same way, on the main thread
and before the batch's records go on; its dead letter's value is the raw
input. A source's read that fails as a whole stops the run.

A stop request (the `stop` event; the CLI sets it on the first Ctrl-C or
SIGTERM) is honoured between batches, so every batch is written whole; batches already
read ahead go through first, so a stream such as stdin loses none. An interrupted
run emits no aggregates (their input is incomplete). Without aggregates,
positions are committed after every batch (`dataflare.pipeline.checkpoints`):
SQL sinks and file sinks (dead-letter ones included) get each record exactly
once across crashes, file sinks by being cut back on a resumed run to the
size saved with the positions. With aggregates, positions and sizes are
saved only at the end of a complete run, so a rerun reads again what this
run did not finish. A state file that cannot be written stops the run with
a `PipelineError` naming it, checked before anything is written. Every
plugin is closed whatever happens.

Batches move between stages as Arrow record batches (`dataflare.columns`),
never as a Python object per record: a plugin with a columnar method is
called with the batch itself, any other gets `Record`s made from it
(`dataflare.pipeline.stage_calls`), so per-record native plugins and 0.1
WASM components run unchanged. A record becomes a `Record` on the columnar
path only when it fails (for its error report or dead letter). A columnar
source (`read_columns`) may answer `PENDING`: the stream goes on, and the
source is asked again after a short pause (doubling from
`PENDING_FIRST_WAIT` up to `PENDING_MAX_WAIT`), or reading stops at a stop
request. A source whose stream never ends (`plugins.kinds.is_unbounded`: a
followed file, a polled table) is read until a stop request, which is then
the normal end of the run (`RunStats.unbounded`).

State a batch needs on its way down (its `BatchCommit`: which position it
commits) is passed from call to call, never kept on the executor; every
commit decision is `checkpoints.Commits`'s, the executor only says when.

Hot plug (`dataflare.pipeline.hotplug`): swaps are prepared on another
thread; the executor puts them in place (`HotPlug.apply`) just before it
takes a batch, and before aggregates emit, so each batch meets one version
of every plugin. `state` says where the run is, for the admin API.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from dataflare.columns import (
    PENDING,
    SCHEMA,
    FilterResult,
    RecordError,
    TransformResult,
    empty_batch,
    from_records,
    record_at,
)
from dataflare.errors import (
    DataFlareError,
    GuestTrap,
    LimitExceeded,
    PipelineError,
    PluginError,
    StageFailed,
)
from dataflare.model import PluginKind, Record
from dataflare.pipeline.checkpoints import BatchCommit, Commits
from dataflare.pipeline.hotplug import HotPlug, StageLoader
from dataflare.pipeline.planner import (
    AggregateStage,
    FilterStage,
    Plan,
    SinkStage,
    SourceStage,
    Stage,
    TransformStage,
)
from dataflare.pipeline.poison_bisect import Isolator, Parts
from dataflare.pipeline.prefetch import ReadAhead, Reader, ReadInline
from dataflare.pipeline.reload_watch import ReloadWatch
from dataflare.pipeline.source_reads import SourceRead, source_read
from dataflare.pipeline.stage_calls import (
    BatchMiscount,
    ErrorParts,
    FilterCall,
    FilterParts,
    FoldCall,
    TransformCall,
    TransformParts,
    WriteCall,
    aggregate_call,
    filter_call,
    keep_mask,
    sink_call,
    transform_call,
)
from dataflare.pipeline.stats import RunStats
from dataflare.plugins.kinds import Plugin, SourceColumns, is_unbounded

__all__ = [
    "META_KIND",
    "META_MESSAGE",
    "META_STAGE",
    "PENDING_FIRST_WAIT",
    "PENDING_MAX_WAIT",
    "Executor",
]

META_STAGE = "dataflare.error.stage"
META_KIND = "dataflare.error.kind"
META_MESSAGE = "dataflare.error.message"

PENDING_FIRST_WAIT = 0.001
"""Seconds before asking a source that answered `PENDING` again."""
PENDING_MAX_WAIT = 0.1
"""The longest pause between two asks of a source that keeps answering `PENDING`."""

_log = logging.getLogger("dataflare.pipeline")

T = TypeVar("T")
O = TypeVar("O")  # noqa: E741 - outcome type


class _Idle:
    """In place of a position: the source had nothing yet, and other sources are read meanwhile."""


_NOTHING_YET = _Idle()

_Batch = tuple[SourceColumns, bytes | _Idle | None]  # what was read, the position after it

_ERRORS = ErrorParts()
_FILTERS = FilterParts()
_TRANSFORMS = TransformParts()


_EMPTY = empty_batch()


def _no_records(item: _Batch) -> bool:
    """Whether `item` ends its source's stream."""
    return item[0].empty and item[1] is not _NOTHING_YET


class _StageCalls:
    """Each stage's columnar call, decided on first use (`stage_calls`) and kept."""

    def __init__(self) -> None:
        self._filters: dict[str, FilterCall] = {}
        self._transforms: dict[str, TransformCall] = {}
        self._folds: dict[str, FoldCall] = {}
        self._writes: dict[str, WriteCall] = {}

    def filter(self, stage: FilterStage) -> FilterCall:
        """`stage`'s filter call."""
        call = self._filters.get(stage.id)
        if call is None:
            call = self._filters[stage.id] = filter_call(stage.plugin)
        return call

    def transform(self, stage: TransformStage) -> TransformCall:
        """`stage`'s transform call."""
        call = self._transforms.get(stage.id)
        if call is None:
            call = self._transforms[stage.id] = transform_call(stage.plugin)
        return call

    def aggregate(self, stage: AggregateStage) -> FoldCall:
        """`stage`'s fold call."""
        call = self._folds.get(stage.id)
        if call is None:
            call = self._folds[stage.id] = aggregate_call(stage.plugin)
        return call

    def forget(self, stage_id: str) -> None:
        """Drop `stage_id`'s call: its plugin was swapped."""
        for calls in (self._filters, self._transforms, self._folds, self._writes):
            calls.pop(stage_id, None)

    def sink(self, stage: SinkStage) -> WriteCall:
        """`stage`'s write call."""
        call = self._writes.get(stage.id)
        if call is None:
            call = self._writes[stage.id] = sink_call(stage.plugin)
        return call


def _error_parts(exc: PluginError | GuestTrap) -> tuple[str, str]:
    if isinstance(exc, PluginError):
        return exc.kind, exc.message
    if isinstance(exc, LimitExceeded):
        return "limit", str(exc)
    return "trap", str(exc)


class Executor:
    """Runs one plan once; `stats` stays readable during and after the run.

    The Dask engine (`dataflare.scaleout`) runs one per partition with
    ``emit=False`` (aggregates fold, their `accumulators` are returned), and
    one more without sources, seeded with the merged ``accumulators``, to emit.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        stop: threading.Event | None = None,
        on_batch: Callable[[RunStats], None] | None = None,
        hotplug_loader: StageLoader | None = None,
        emit: bool = True,
        accumulators: Mapping[str, bytes] | None = None,
    ) -> None:
        self.plan = plan
        self.emit = emit
        """False: aggregates fold but never emit (a Dask partition returns `accumulators`)."""
        self._seed = dict(accumulators or {})
        self.stop = stop or threading.Event()
        self.on_batch = on_batch
        self.stats = RunStats()
        for stage in plan.sources:
            self.stats.add(stage.id, stage.kind.value, "source")
        self.stats.unbounded = any(is_unbounded(stage.plugin) for stage in plan.sources)
        for processor in plan.processors:
            self.stats.add(processor.id, processor.kind.value, "processor")
        for sink in plan.sinks:
            self.stats.add(sink.id, sink.kind.value, "sink")
        for sink in plan.dead_letters.values():
            self.stats.add(sink.id, sink.kind.value, "dead-letter sink")
        self._accs: dict[str, bytes] = {}
        self._isolators = {stage.id: Isolator(stage.id) for stage in plan.stages}
        self._commits = Commits(plan, self._call)
        self._calls = _StageCalls()
        self._abandoned = threading.Event()
        """Set when the run fails: a source waiting on `PENDING` gives up."""
        self.hotplug = HotPlug(
            plan, load=hotplug_loader, accumulator=lambda stage: self._accs.get(stage, b"")
        )
        self.state = "starting"
        """starting, running, finished, stopped (on request) or failed."""

    def run(self) -> RunStats:
        """Run to the end of every source (or a stop request); always closes every plugin.

        Raises `StageFailed` (or another `PipelineError`) when the run fails.
        """
        self.stats.started = time.monotonic()
        ok = False
        watch = ReloadWatch(self.hotplug, [s.id for s in self.plan.stages if s.config.reload])
        try:
            watch.start()
            self._run()
            ok = True
        finally:
            self.state = "failed" if not ok else "stopped" if self.stats.interrupted else "finished"
            self.stats.finished = time.monotonic()
            watch.stop()
            self.hotplug.close()
            failures = self.plan.close()
            for failure in failures:
                _log.warning("%s", failure)
        if ok and failures:
            raise PipelineError("the run finished but closing failed: " + "; ".join(failures))
        return self.stats

    @property
    def accumulators(self) -> dict[str, bytes]:
        """Each aggregate's accumulator now (after a run with ``emit=False``: the folded ones)."""
        return dict(self._accs)

    def _run(self) -> None:
        plan = self.plan
        commits = self._commits
        commits.load()
        for sink in [*plan.dead_letters.values(), *plan.sinks]:
            self._call(sink, "connect", sink.plugin.connect)
        for source in plan.sources:
            self._call(source, "connect", source.plugin.connect)
            commits.restore(source)
        for processor in plan.processors:
            if isinstance(processor, AggregateStage):
                seed = self._seed.get(processor.id)
                self._accs[processor.id] = (
                    seed
                    if seed is not None
                    else self._call(processor, "init", processor.plugin.init)
                )
        commits.start()
        self.state = "running"
        self._read_all()
        if self.stop.is_set():
            self.stats.interrupted = True
            if self.stats.unbounded and not self._accs:
                _log.info("stopped on request: every batch read was written and committed")
            else:
                _log.warning(
                    "stopped on request; aggregates not emitted, last batch positions kept"
                )
        elif self.emit:
            self._emit_aggregates()
        commits.settle()  # batches a stopped run wrote are committed like the rest
        for sink in [*plan.sinks, *plan.dead_letters.values()]:
            self._call(sink, "flush", sink.plugin.flush)
        if not self.stats.interrupted:
            commits.save()

    def _read_all(self) -> None:
        active = list(self.plan.sources)
        # a thread only pays where some stage leaves the GIL free while it works
        wasm = any(stage.config.plugin.wasm_path is not None for stage in self.plan.stages)
        readers: dict[str, Reader[_Batch]] = {}
        for stage in active:
            read = partial(self._read_batch, stage, source_read(stage.plugin))
            readers[stage.id] = (
                ReadAhead[_Batch](stage.id, read, _no_records)
                if wasm
                else ReadInline[_Batch](stage.id, read, _no_records)
            )
        idle_wait = PENDING_FIRST_WAIT
        try:
            while active:
                busy = False
                for stage in list(active):
                    if self.stop.is_set():
                        for reader in readers.values():
                            reader.stop()  # what was read still goes through
                    item = readers[stage.id].next()
                    if item is None:
                        active.remove(stage)
                        busy = True
                        continue
                    batch, position = item
                    if isinstance(position, _Idle):
                        continue
                    busy = True
                    self._swap()
                    started = time.perf_counter()
                    if position is not None:
                        commit = self._commits.begin(stage, position)
                        self._take(stage, batch, commit)
                        self._commits.end(stage, commit)
                    else:
                        self._take(stage, batch, None)
                    self.stats.batches.observe(time.perf_counter() - started)
                    if self.on_batch is not None:
                        self.on_batch(self.stats)
                    # after the progress hook: a swap pause counts only the executor's own time
                    self.hotplug.batch_done()
                if busy:
                    idle_wait = PENDING_FIRST_WAIT
                else:  # every source had nothing yet: pause as one source would
                    self._commits.settle()  # a quiet stream's last batches become durable now
                    self.hotplug.batch_done()  # a quiet stream waits on no swap: no pause
                    self._swap()  # a swap asked for while the stream is quiet need not wait
                    self.stop.wait(idle_wait)
                    idle_wait = min(idle_wait * 2, PENDING_MAX_WAIT)
        except BaseException:
            self._abandoned.set()
            for reader in readers.values():
                reader.abandon()
            raise

    def _read_batch(self, stage: SourceStage, read: SourceRead) -> _Batch:
        """One batch (`read` of it) and, when batches are committed, the position after it.

        A source with nothing yet (`PENDING`) answers `_NOTHING_YET` at once,
        so an idle source does not hold up the others; `_read_all` pauses when
        they all are idle (doubling up to `PENDING_MAX_WAIT`), and meanwhile
        commits what was written and puts swaps in place. A stop request ends
        an idle source's stream. Runs on the source's `ReadAhead` thread, if
        it has one.
        """
        size = self.plan.config.batch_size
        outcome = self._call(stage, "read", partial(read, size))
        if outcome is PENDING:
            if self.stop.is_set() or self._abandoned.is_set():
                return SourceColumns(_EMPTY), None
            return SourceColumns(_EMPTY), _NOTHING_YET
        assert isinstance(outcome, SourceColumns)
        if outcome.empty or not self._commits.per_batch:
            return outcome, None
        return outcome, self._call(stage, "checkpoint", stage.plugin.checkpoint)

    def _take(self, stage: SourceStage, read: SourceColumns, commit: BatchCommit | None) -> None:
        """Route what a source could not decode by its ``on_error``, then push its records.

        On the main thread, inside the batch's commit, like any failed record:
        a dead letter of a source holds the input as read (the raw line).
        """
        for failure in read.failures:
            self._failed(stage, Record(value=failure.raw), failure.error, commit)
        self.stats.stages[stage.id].records_out += read.batch.num_rows
        self._push(read.batch, 0, commit)

    def _swap(self) -> None:
        """Put prepared hot-plug swaps in place (between batches only)."""
        for stage_id in self.hotplug.apply():
            self._calls.forget(stage_id)

    def _emit_aggregates(self) -> None:
        self._swap()
        for index, stage in enumerate(self.plan.processors):
            if not isinstance(stage, AggregateStage):
                continue
            acc = self._accs[stage.id]
            records = self._call(stage, "emit", partial(stage.plugin.emit, acc))
            self.stats.stages[stage.id].records_out += len(records)
            self._push(from_records(records), index + 1, None)
        if self.on_batch is not None:
            self.on_batch(self.stats)

    def _push(self, batch: pa.RecordBatch, start: int, commit: BatchCommit | None) -> None:
        """Run `batch` through processors[start:], then write it to every sink."""
        current = batch
        for stage in self.plan.processors[start:]:
            if not current.num_rows:
                return
            stats = self.stats.stages[stage.id]
            stats.records_in += current.num_rows
            self.hotplug.saw(stage.id, current)
            match stage:
                case FilterStage():
                    current = self._filter(stage, current, commit)
                case TransformStage():
                    current = self._transform(stage, current, commit)
                case AggregateStage():
                    self._aggregate(stage, current, commit)
                    return
        if current.num_rows:
            for sink in self.plan.sinks:
                self._write(sink, current, commit)

    def _filter(
        self, stage: FilterStage, batch: pa.RecordBatch, commit: BatchCommit | None
    ) -> pa.RecordBatch:
        call = self._calls.filter(stage)
        rows = batch.num_rows

        def checked(part: pa.RecordBatch) -> FilterResult:
            result = call(part)
            self._check_count(stage, part.num_rows, len(result.keep), result.errors)
            return result

        result = self._batch(stage, batch, checked, _FILTERS)
        self._route(stage, batch, result.errors, commit)
        keep = result.keep.fill_null(False)
        if result.errors:
            # a failed row is never kept, whatever its bit says
            keep = pc.and_(keep, keep_mask(rows, result.errors))
        kept = batch.filter(keep)
        stats = self.stats.stages[stage.id]
        stats.dropped += rows - kept.num_rows - len(result.errors)
        stats.records_out += kept.num_rows
        return kept

    def _transform(
        self, stage: TransformStage, batch: pa.RecordBatch, commit: BatchCommit | None
    ) -> pa.RecordBatch:
        call = self._calls.transform(stage)

        def checked(part: pa.RecordBatch) -> TransformResult:
            result = call(part)
            made = result.batch
            self._check_count(stage, part.num_rows, made.num_rows, result.errors)
            if made.schema.metadata:
                # new values: no mark of its input's (e.g. `json_columns.mark_checked`) holds
                made = made.replace_schema_metadata(None)
                result = TransformResult(made, result.errors)
            if not made.schema.equals(SCHEMA):
                try:
                    made = made.cast(SCHEMA)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                    raise StageFailed(
                        stage.id,
                        "processing",
                        f"returned a batch whose columns are not a record batch's: {exc}",
                        what="broke the batch contract",
                    ) from exc
                result = TransformResult(made, result.errors)
            return result

        result = self._batch(stage, batch, checked, _TRANSFORMS)
        self._route(stage, batch, result.errors, commit)
        made = result.batch
        if result.errors:
            made = made.filter(keep_mask(made.num_rows, result.errors))
        self.stats.stages[stage.id].records_out += made.num_rows
        return made

    def _aggregate(
        self, stage: AggregateStage, batch: pa.RecordBatch, commit: BatchCommit | None
    ) -> None:
        call = self._calls.aggregate(stage)

        def fold(part: pa.RecordBatch) -> Mapping[int, RecordError]:
            # Parts of a trapped batch fold in order, each onto the last good accumulator.
            result = call(self._accs[stage.id], part)
            self._check_count(stage, part.num_rows, part.num_rows, result.errors)
            self._accs[stage.id] = result.accumulator
            return result.errors

        errors = self._batch(stage, batch, fold, _ERRORS)
        self._route(stage, batch, errors, commit)

    def _write(self, stage: SinkStage, batch: pa.RecordBatch, commit: BatchCommit | None) -> None:
        write = self._commits.write_call(stage, batch, commit, self._calls.sink(stage))
        if write is None:
            return  # the sink committed these records before a crash

        def checked(part: pa.RecordBatch) -> Mapping[int, RecordError]:
            errors = write(part)
            self._check_count(stage, part.num_rows, part.num_rows, errors)
            return errors

        stats = self.stats.stages[stage.id]
        stats.records_in += batch.num_rows
        errors = self._batch(stage, batch, checked, _ERRORS)
        stats.records_out += batch.num_rows - len(errors)
        self._route(stage, batch, errors, commit)

    def _route(
        self,
        stage: Stage[Plugin],
        batch: pa.RecordBatch,
        errors: Mapping[int, RecordError],
        commit: BatchCommit | None,
    ) -> None:
        """Each failed row, in order, as a `Record`, to its stage's ``on_error``."""
        for row in sorted(errors):
            self._failed(stage, record_at(batch, row), errors[row], commit)

    def _batch(
        self,
        stage: Stage[Plugin],
        batch: pa.RecordBatch,
        call: Callable[[pa.RecordBatch], O],
        parts: Parts[pa.RecordBatch, O],
    ) -> O:
        """The outcome of `call(batch)`.

        A `PluginError` for the whole call fails every record in it; a trap is
        narrowed down to the records that cause it (see `poison_bisect`).
        """
        isolator = self._isolators[stage.id]
        try:
            return isolator.run_parts(batch, call, parts)
        except BatchMiscount as exc:
            raise self._miscount(stage, str(exc)) from exc
        except DataFlareError as exc:
            if isinstance(exc, PipelineError):
                raise
            raise StageFailed(stage.id, "error", str(exc)) from exc
        finally:
            self.stats.stages[stage.id].traps = isolator.traps

    def _check_count(
        self, stage: Stage[Plugin], rows: int, outcomes: int, errors: Mapping[int, object]
    ) -> None:
        """Stop the run when a call's outcomes do not fit the batch it was given."""
        if outcomes != rows:
            raise self._miscount(
                stage, f"returned {outcomes} outcomes for a batch of {rows} records"
            )
        if errors and not all(type(row) is int and 0 <= row < rows for row in errors):
            raise self._miscount(stage, f"reported an error for a row outside 0..{rows - 1}")

    @staticmethod
    def _miscount(stage: Stage[Plugin], message: str) -> StageFailed:
        return StageFailed(stage.id, "processing", message, what="broke the batch contract")

    def _failed(
        self,
        stage: Stage[Plugin],
        record: Record,
        exc: PluginError | GuestTrap,
        commit: BatchCommit | None,
    ) -> None:
        kind, message = _error_parts(exc)
        stats = self.stats.stages[stage.id]
        stats.errors += 1
        if kind == "limit":
            stats.limits += 1
        policy = stage.config.on_error
        if policy == "fail":
            if stage.kind is PluginKind.SOURCE:
                # The input is at fault, not a plugin: say how to get past it.
                message += (
                    " (the source's on_error is fail; set it to skip or dead_letter "
                    "to keep going without such records)"
                )
            raise StageFailed(stage.id, kind, message, what="failed on a record") from exc
        if policy == "skip":
            _log.debug("skipped a record: %s: %s", kind, message, extra={"stage": stage.id})
            return
        target = stage.config.dead_letter
        assert target is not None  # validation: dead_letter names a sink
        letter = replace(
            record,
            metadata={
                **record.metadata,
                META_STAGE: stage.id,
                META_KIND: kind,
                META_MESSAGE: message,
            },
        )
        self._write(self.plan.dead_letters[target], from_records([letter]), commit)

    def _call(self, stage: Stage[Plugin], what: str, call: Callable[[], T]) -> T:
        """Call a non-record method; any failure stops the run, naming the stage."""
        try:
            return call()
        except (PluginError, GuestTrap) as exc:
            kind, message = _error_parts(exc)
            raise StageFailed(stage.id, kind, message, what=f"failed in {what}") from exc
        except DataFlareError as exc:
            raise StageFailed(stage.id, "error", str(exc), what=f"failed in {what}") from exc
