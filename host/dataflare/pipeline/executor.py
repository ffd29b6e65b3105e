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
but could not decode (the failures of a `SourceBatch`, e.g. a line that is
not JSON) follows the source's ``on_error`` the same way, on the main thread
and before the batch's records go on; its dead letter's value is the raw
input. A source's read that fails as a whole stops the run.

A stop request (the `stop` event; the CLI sets it on the first Ctrl-C) is
honoured between batches, so every batch is written whole; batches already
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

State a batch needs on its way down (its `BatchCommit`: which position it
commits) is passed from call to call, never kept on the executor; every
commit decision is `checkpoints.Commits`'s, the executor only says when.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from itertools import compress
from typing import TypeGuard, TypeVar

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
from dataflare.pipeline.planner import (
    AggregateStage,
    FilterStage,
    Plan,
    SinkStage,
    SourceStage,
    Stage,
    TransformStage,
)
from dataflare.pipeline.poison_bisect import Isolator
from dataflare.pipeline.prefetch import ReadAhead, Reader, ReadInline
from dataflare.pipeline.stats import RunStats
from dataflare.plugins.kinds import BatchedSource, Plugin, SourceBatch

__all__ = ["META_KIND", "META_MESSAGE", "META_STAGE", "Executor"]

META_STAGE = "dataflare.error.stage"
META_KIND = "dataflare.error.kind"
META_MESSAGE = "dataflare.error.message"

_log = logging.getLogger("dataflare.pipeline")

T = TypeVar("T")


_FAILED = (PluginError, GuestTrap)


_Batch = tuple[SourceBatch, bytes | None]  # what was read, the position after it


def _whole(read: Callable[[int], list[Record]]) -> Callable[[int], SourceBatch]:
    """A `read` that fails or succeeds as a whole, as one returning `SourceBatch`es."""
    return lambda size: SourceBatch(read(size))


def _no_records(item: _Batch) -> bool:
    return item[0].empty


def _none_failed(outcomes: list[T | PluginError | GuestTrap]) -> TypeGuard[list[T]]:
    return not any(isinstance(outcome, _FAILED) for outcome in outcomes)


def _error_parts(exc: PluginError | GuestTrap) -> tuple[str, str]:
    if isinstance(exc, PluginError):
        return exc.kind, exc.message
    if isinstance(exc, LimitExceeded):
        return "limit", str(exc)
    return "trap", str(exc)


class Executor:
    """Runs one plan once; `stats` stays readable during and after the run."""

    def __init__(
        self,
        plan: Plan,
        *,
        stop: threading.Event | None = None,
        on_batch: Callable[[RunStats], None] | None = None,
    ) -> None:
        self.plan = plan
        self.stop = stop or threading.Event()
        self.on_batch = on_batch
        self.stats = RunStats()
        for stage in plan.sources:
            self.stats.add(stage.id, stage.kind.value, "source")
        for processor in plan.processors:
            self.stats.add(processor.id, processor.kind.value, "processor")
        for sink in plan.sinks:
            self.stats.add(sink.id, sink.kind.value, "sink")
        for sink in plan.dead_letters.values():
            self.stats.add(sink.id, sink.kind.value, "dead-letter sink")
        self._accs: dict[str, bytes] = {}
        self._isolators = {stage.id: Isolator(stage.id) for stage in plan.stages}
        self._commits = Commits(plan, self._call)

    def run(self) -> RunStats:
        """Run to the end of every source (or a stop request); always closes every plugin.

        Raises `StageFailed` (or another `PipelineError`) when the run fails.
        """
        self.stats.started = time.monotonic()
        ok = False
        try:
            self._run()
            ok = True
        finally:
            self.stats.finished = time.monotonic()
            failures = self.plan.close()
            for failure in failures:
                _log.warning("%s", failure)
        if ok and failures:
            raise PipelineError("the run finished but closing failed: " + "; ".join(failures))
        return self.stats

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
                self._accs[processor.id] = self._call(processor, "init", processor.plugin.init)
        commits.start()
        self._read_all()
        if self.stop.is_set():
            self.stats.interrupted = True
            _log.warning("stopped on request; aggregates not emitted, last batch positions kept")
        else:
            self._emit_aggregates()
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
            source = stage.plugin
            # Decided once per source: a runtime protocol check is not free per batch.
            read_one = (
                source.read_batch if isinstance(source, BatchedSource) else _whole(source.read)
            )
            read = partial(self._read_batch, stage, read_one)
            readers[stage.id] = (
                ReadAhead[_Batch](stage.id, read, _no_records)
                if wasm
                else ReadInline[_Batch](stage.id, read, _no_records)
            )
        try:
            while active:
                for stage in list(active):
                    if self.stop.is_set():
                        for reader in readers.values():
                            reader.stop()  # what was read still goes through
                    item = readers[stage.id].next()
                    if item is None:
                        active.remove(stage)
                        continue
                    batch, position = item
                    if position is not None:
                        commit = self._commits.begin(stage, position)
                        self._take(stage, batch, commit)
                        self._commits.end(stage, commit)
                    else:
                        self._take(stage, batch, None)
                    if self.on_batch is not None:
                        self.on_batch(self.stats)
        except BaseException:
            for reader in readers.values():
                reader.abandon()
            raise

    def _read_batch(self, stage: SourceStage, read: Callable[[int], SourceBatch]) -> _Batch:
        """One batch (`read` of it) and, when batches are committed, the position after it.

        Runs on the source's `ReadAhead` thread.
        """
        batch = self._call(stage, "read", partial(read, self.plan.config.batch_size))
        if batch.empty or not self._commits.per_batch:
            return batch, None
        return batch, self._call(stage, "checkpoint", stage.plugin.checkpoint)

    def _take(self, stage: SourceStage, batch: SourceBatch, commit: BatchCommit | None) -> None:
        """Route what a source could not decode by its ``on_error``, then push its records.

        On the main thread, inside the batch's commit, like any failed record:
        a dead letter of a source holds the input as read (the raw line).
        """
        for failure in batch.failures:
            self._failed(stage, Record(value=failure.raw), failure.error, commit)
        self.stats.stages[stage.id].records_out += len(batch.records)
        self._push(batch.records, 0, commit)

    def _emit_aggregates(self) -> None:
        for index, stage in enumerate(self.plan.processors):
            if not isinstance(stage, AggregateStage):
                continue
            acc = self._accs[stage.id]
            records = self._call(stage, "emit", partial(stage.plugin.emit, acc))
            self.stats.stages[stage.id].records_out += len(records)
            self._push(records, index + 1, None)
        if self.on_batch is not None:
            self.on_batch(self.stats)

    def _push(self, records: Sequence[Record], start: int, commit: BatchCommit | None) -> None:
        """Run `records` through processors[start:], then write them to every sink."""
        current = list(records)
        for stage in self.plan.processors[start:]:
            if not current:
                return
            stats = self.stats.stages[stage.id]
            stats.records_in += len(current)
            match stage:
                case FilterStage():
                    current = self._filter(stage, current, commit)
                case TransformStage():
                    current = self._transform(stage, current, commit)
                case AggregateStage():
                    self._aggregate(stage, current, commit)
                    return
        if current:
            for sink in self.plan.sinks:
                self._write(sink, current, commit)

    def _filter(
        self, stage: FilterStage, records: list[Record], commit: BatchCommit | None
    ) -> list[Record]:
        outcomes = self._batch(stage, records, stage.plugin.filter_batch)
        stats = self.stats.stages[stage.id]
        if all(type(outcome) is bool for outcome in outcomes):
            # The usual batch: decisions only, no failed record to route.
            kept = list(compress(records, outcomes))
            stats.dropped += len(records) - len(kept)
            stats.records_out += len(kept)
            return kept
        kept = []
        for record, outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, PluginError | GuestTrap):
                self._failed(stage, record, outcome, commit)
            elif outcome:
                kept.append(record)
            else:
                stats.dropped += 1
        stats.records_out += len(kept)
        return kept

    def _transform(
        self, stage: TransformStage, records: list[Record], commit: BatchCommit | None
    ) -> list[Record]:
        outcomes = self._batch(stage, records, stage.plugin.transform_batch)
        if _none_failed(outcomes):
            self.stats.stages[stage.id].records_out += len(outcomes)
            return list(outcomes)
        made = []
        for record, outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, PluginError | GuestTrap):
                self._failed(stage, record, outcome, commit)
            else:
                made.append(outcome)
        self.stats.stages[stage.id].records_out += len(made)
        return made

    def _aggregate(
        self, stage: AggregateStage, records: list[Record], commit: BatchCommit | None
    ) -> None:
        plugin = stage.plugin

        def fold(batch: list[Record]) -> list[PluginError | None]:
            # Halves of a trapped batch fold in order, each onto the last good accumulator.
            acc, outcomes = plugin.aggregate_batch(self._accs[stage.id], batch)
            self._check_count(stage, batch, outcomes)
            self._accs[stage.id] = acc
            return list(outcomes)

        failed = self._batch(stage, records, fold)
        for record, outcome in zip(records, failed, strict=True):
            if outcome is not None:
                self._failed(stage, record, outcome, commit)

    def _write(self, stage: SinkStage, records: list[Record], commit: BatchCommit | None) -> None:
        write = self._commits.write_call(stage, records, commit)
        if write is None:
            return  # the sink committed these records before a crash
        stats = self.stats.stages[stage.id]
        stats.records_in += len(records)
        outcomes = self._batch(stage, records, write)
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome is None:
                stats.records_out += 1
            else:
                self._failed(stage, record, outcome, commit)

    def _batch(
        self, stage: Stage[Plugin], records: list[Record], call: Callable[[list[Record]], list[T]]
    ) -> list[T | PluginError | GuestTrap]:
        """One outcome per record.

        A `PluginError` for the whole call fails every record in it; a trap is
        narrowed down to the records that cause it (see `poison_bisect`).
        """
        isolator = self._isolators[stage.id]
        try:
            outcomes = isolator.run(records, call)
        except DataFlareError as exc:
            if isinstance(exc, PipelineError):
                raise
            raise StageFailed(stage.id, "error", str(exc)) from exc
        finally:
            self.stats.stages[stage.id].traps = isolator.traps
        self._check_count(stage, records, outcomes)
        return outcomes

    def _check_count(
        self, stage: Stage[Plugin], records: Sequence[Record], outcomes: Sequence[object]
    ) -> None:
        if len(outcomes) != len(records):
            raise StageFailed(
                stage.id,
                "processing",
                f"returned {len(outcomes)} outcomes for a batch of {len(records)} records",
                what="broke the batch contract",
            )

    def _failed(
        self,
        stage: Stage[Plugin],
        record: Record,
        exc: PluginError | GuestTrap,
        commit: BatchCommit | None,
    ) -> None:
        kind, message = _error_parts(exc)
        self.stats.stages[stage.id].errors += 1
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
        self._write(self.plan.dead_letters[target], [letter], commit)

    def _call(self, stage: Stage[Plugin], what: str, call: Callable[[], T]) -> T:
        """Call a non-record method; any failure stops the run, naming the stage."""
        try:
            return call()
        except (PluginError, GuestTrap) as exc:
            kind, message = _error_parts(exc)
            raise StageFailed(stage.id, kind, message, what=f"failed in {what}") from exc
        except DataFlareError as exc:
            raise StageFailed(stage.id, "error", str(exc), what=f"failed in {what}") from exc
