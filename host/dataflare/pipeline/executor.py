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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from itertools import compress
from typing import TypeVar, cast

from dataflare.errors import (
    DataFlareError,
    GuestTrap,
    LimitExceeded,
    PipelineError,
    PluginError,
    StageFailed,
)
from dataflare.model import PluginKind, Record
from dataflare.pipeline.checkpoints import (
    Committer,
    ResumableFileSink,
    TransactionalSink,
    is_resumable_file,
    is_transactional,
)
from dataflare.pipeline.planner import Plan, Stage
from dataflare.pipeline.poison_bisect import Isolator
from dataflare.pipeline.prefetch import ReadAhead, Reader, ReadInline
from dataflare.pipeline.state import SavedState, StateFile
from dataflare.pipeline.stats import RunStats
from dataflare.plugins.kinds import (
    AggregatePlugin,
    BatchedSource,
    FilterPlugin,
    SinkPlugin,
    SourceBatch,
    SourcePlugin,
    TransformPlugin,
)

__all__ = ["META_KIND", "META_MESSAGE", "META_STAGE", "Executor"]

META_STAGE = "dataflare.error.stage"
META_KIND = "dataflare.error.kind"
META_MESSAGE = "dataflare.error.message"

_log = logging.getLogger("dataflare.pipeline")

T = TypeVar("T")


_FAILED = (PluginError, GuestTrap)


_Batch = tuple[SourceBatch, bytes | None]  # what was read, the position after it


def _no_records(item: _Batch) -> bool:
    return not item[0].records and not item[0].failures


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
        for stage in plan.processors:
            self.stats.add(stage.id, stage.kind.value, "processor")
        for stage in plan.sinks:
            self.stats.add(stage.id, stage.kind.value, "sink")
        for stage in plan.dead_letters.values():
            self.stats.add(stage.id, stage.kind.value, "dead-letter sink")
        self._accs: dict[str, bytes] = {}
        self._isolators = {stage.id: Isolator(stage.id) for stage in plan.stages}
        self._committer = Committer(str(plan.config.state_path.resolve()))
        self._per_batch = False
        self._batch_at: tuple[str, bytes] | None = None
        self._transactional: set[str] = set()
        self._touched: set[str] = set()
        self._saved: dict[str, bytes] = {}
        self._positions: dict[str, tuple[str, bytes]] = {}
        self._state = StateFile(plan.config.state_path)
        # sinks (dead-letter ones too) whose committed size is saved with the positions
        self._files = [
            stage
            for stage in [*plan.sinks, *plan.dead_letters.values()]
            if is_resumable_file(stage.plugin)
        ]

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
        saved = self._state.read()
        self._resume_files(saved)
        for stage in [*plan.dead_letters.values(), *plan.sinks]:
            self._call(stage, "connect", cast(SinkPlugin, stage.plugin).connect)
        for stage in plan.sources:
            source = cast(SourcePlugin, stage.plugin)
            self._call(stage, "connect", source.connect)
            position = saved.position(stage.id, stage.config.plugin.label)
            self._saved[stage.id] = position
            if position:
                _log.info("resuming from the saved position", extra={"stage": stage.id})
                self._call(stage, "restore", partial(source.restore, position))
        for stage in plan.processors:
            if stage.kind is PluginKind.AGGREGATE:
                self._accs[stage.id] = self._call(
                    stage, "init", cast(AggregatePlugin, stage.plugin).init
                )
        self._start_commits()
        self._read_all()
        if self.stop.is_set():
            self.stats.interrupted = True
            _log.warning("stopped on request; aggregates not emitted, last batch positions kept")
        else:
            self._emit_aggregates()
        for stage in [*plan.sinks, *plan.dead_letters.values()]:
            self._call(stage, "flush", cast(SinkPlugin, stage.plugin).flush)
        if not self.stats.interrupted:
            self._save_positions()

    def _read_all(self) -> None:
        active = list(self.plan.sources)
        # a thread only pays where some stage leaves the GIL free while it works
        wasm = any(stage.config.plugin.wasm_path is not None for stage in self.plan.stages)
        readers: dict[str, Reader[_Batch]] = {}
        for stage in active:
            read = partial(self._read_batch, stage)
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
                        self._committer.begin_batch(stage.id, position)
                        self._batch_at = (stage.id, position)
                        self._take(stage, batch)
                        self._batch_at = None
                        self._commit(stage, position)
                    else:
                        self._take(stage, batch)
                    if self.on_batch is not None:
                        self.on_batch(self.stats)
        except BaseException:
            for reader in readers.values():
                reader.abandon()
            raise

    def _read_batch(self, stage: Stage) -> _Batch:
        """One batch and, when batches are committed, the source's position after it.

        Runs on the source's `ReadAhead` thread.
        """
        source = cast(SourcePlugin, stage.plugin)
        size = self.plan.config.batch_size
        if isinstance(source, BatchedSource):
            batch = self._call(stage, "read", partial(source.read_batch, size))
        else:
            batch = SourceBatch(self._call(stage, "read", partial(source.read, size)))
        if _no_records((batch, None)) or not self._per_batch:
            return batch, None
        return batch, self._call(stage, "checkpoint", source.checkpoint)

    def _take(self, stage: Stage, batch: SourceBatch) -> None:
        """Route what a source could not decode by its ``on_error``, then push its records.

        On the main thread, inside the batch's commit, like any failed record:
        a dead letter of a source holds the input as read (the raw line).
        """
        for failure in batch.failures:
            self._failed(stage, Record(value=failure.raw), failure.error)
        self.stats.stages[stage.id].records_out += len(batch.records)
        self._push(batch.records, 0)

    def _emit_aggregates(self) -> None:
        for index, stage in enumerate(self.plan.processors):
            if stage.kind is not PluginKind.AGGREGATE:
                continue
            plugin = cast(AggregatePlugin, stage.plugin)
            acc = self._accs[stage.id]
            records = self._call(stage, "emit", partial(plugin.emit, acc))
            self.stats.stages[stage.id].records_out += len(records)
            self._push(records, index + 1)
        if self.on_batch is not None:
            self.on_batch(self.stats)

    def _push(self, records: Sequence[Record], start: int) -> None:
        """Run `records` through processors[start:], then write them to every sink."""
        current = list(records)
        for stage in self.plan.processors[start:]:
            if not current:
                return
            stats = self.stats.stages[stage.id]
            stats.records_in += len(current)
            if stage.kind is PluginKind.FILTER:
                current = self._filter(stage, current)
            elif stage.kind is PluginKind.TRANSFORM:
                current = self._transform(stage, current)
            else:
                self._aggregate(stage, current)
                return
        if current:
            for stage in self.plan.sinks:
                self._write(stage, current)

    def _filter(self, stage: Stage, records: list[Record]) -> list[Record]:
        plugin = cast(FilterPlugin, stage.plugin)
        outcomes = self._batch(stage, records, plugin.filter_batch)
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
                self._failed(stage, record, outcome)
            elif outcome:
                kept.append(record)
            else:
                stats.dropped += 1
        stats.records_out += len(kept)
        return kept

    def _transform(self, stage: Stage, records: list[Record]) -> list[Record]:
        plugin = cast(TransformPlugin, stage.plugin)
        outcomes = self._batch(stage, records, plugin.transform_batch)
        if not any(isinstance(outcome, _FAILED) for outcome in outcomes):
            self.stats.stages[stage.id].records_out += len(outcomes)
            return cast(list[Record], list(outcomes))
        made = []
        for record, outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, PluginError | GuestTrap):
                self._failed(stage, record, outcome)
            else:
                made.append(outcome)
        self.stats.stages[stage.id].records_out += len(made)
        return made

    def _aggregate(self, stage: Stage, records: list[Record]) -> None:
        plugin = cast(AggregatePlugin, stage.plugin)

        def fold(batch: list[Record]) -> list[PluginError | None]:
            # Halves of a trapped batch fold in order, each onto the last good accumulator.
            acc, outcomes = plugin.aggregate_batch(self._accs[stage.id], batch)
            self._check_count(stage, batch, outcomes)
            self._accs[stage.id] = acc
            return list(outcomes)

        failed = self._batch(stage, records, fold)
        for record, outcome in zip(records, failed, strict=True):
            if outcome is not None:
                self._failed(stage, record, outcome)

    def _write(self, stage: Stage, records: list[Record]) -> None:
        plugin = cast(SinkPlugin, stage.plugin)
        stats = self.stats.stages[stage.id]
        write = plugin.write_batch
        at = self._batch_at
        if at is not None and stage.id in self._transactional:
            if self._committer.already_written(stage.id, *at):
                self._touched.add(stage.id)
                _log.info(
                    "skipping %d records this sink committed before a crash",
                    len(records),
                    extra={"stage": stage.id},
                )
                return
            write = partial(self._write_at, stage, at)
        stats.records_in += len(records)
        outcomes = self._batch(stage, records, write)
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome is None:
                stats.records_out += 1
            else:
                self._failed(stage, record, outcome)

    def _batch(
        self, stage: Stage, records: list[Record], call: Callable[[list[Record]], list[T]]
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
        self, stage: Stage, records: Sequence[Record], outcomes: Sequence[object]
    ) -> None:
        if len(outcomes) != len(records):
            raise StageFailed(
                stage.id,
                "processing",
                f"returned {len(outcomes)} outcomes for a batch of {len(records)} records",
                what="broke the batch contract",
            )

    def _failed(self, stage: Stage, record: Record, exc: PluginError | GuestTrap) -> None:
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
        target = self.plan.dead_letters[cast(str, stage.config.dead_letter)]
        letter = replace(
            record,
            metadata={
                **record.metadata,
                META_STAGE: stage.id,
                META_KIND: kind,
                META_MESSAGE: message,
            },
        )
        self._write(target, [letter])

    def _call(self, stage: Stage, what: str, call: Callable[[], T]) -> T:
        """Call a non-record method; any failure stops the run, naming the stage."""
        try:
            return call()
        except (PluginError, GuestTrap) as exc:
            kind, message = _error_parts(exc)
            raise StageFailed(stage.id, kind, message, what=f"failed in {what}") from exc
        except DataFlareError as exc:
            raise StageFailed(stage.id, "error", str(exc), what=f"failed in {what}") from exc

    def _write_at(
        self, stage: Stage, at: tuple[str, bytes], records: list[Record]
    ) -> list[PluginError | None]:
        """Write through a transactional sink, committing the batch's position with it.

        Only a call that returned committed the position; if none did (the
        whole call failed and its policy dropped the records), `_commit`
        stores the position on its own, or stops the run if it cannot.
        """
        sink = cast(TransactionalSink, stage.plugin)
        outcomes = sink.write_batch_at(records, self._committer.scope(stage.id), *at)
        self._touched.add(stage.id)
        return outcomes

    def _resume_files(self, saved: SavedState) -> None:
        """Before the sinks connect: on a resumed run, continue each file where it was committed.

        A fresh run (no source has a saved position) leaves every file sink
        to its ``mode``.
        """
        if not any(saved.position(s.id, s.config.plugin.label) for s in self.plan.sources):
            return
        for stage in self._files:
            size = saved.size(stage.id, stage.config.plugin.label)
            if size is None and saved.version >= 2:
                _log.info(
                    "no committed size saved for this sink (added since the last run?): "
                    "it starts as its mode says",
                    extra={"stage": stage.id},
                )
                continue
            if size is None:
                _log.warning(
                    "the state file predates saved sink sizes: appending to the file as it "
                    "is (the batch in flight at the last crash may appear twice)",
                    extra={"stage": stage.id},
                )
            else:
                _log.info("continuing the file at byte %d", size, extra={"stage": stage.id})
            sink = cast(ResumableFileSink, stage.plugin)
            self._call(stage, "resume", partial(sink.resume_at, size))

    def _sizes(self) -> dict[str, tuple[str, int]]:
        """Stage id -> (plugin label, size) of every file sink; call right after flushing."""
        return {
            stage.id: (
                stage.config.plugin.label,
                self._call(stage, "flush", cast(ResumableFileSink, stage.plugin).committed_size),
            )
            for stage in self._files
        }

    def _start_commits(self) -> None:
        """Decide on per-batch commits and learn what transactional sinks hold."""
        plan = self.plan
        probes = {}
        for stage in plan.sources:
            source = cast(SourcePlugin, stage.plugin)
            probes[stage.id] = self._call(stage, "checkpoint", source.checkpoint)
        if not any(probes.values()) and not any(self._saved.values()):
            return  # no source can resume: nothing to commit
        # Fail before any sink holds records that no state file would account for.
        self._state.check_writable()
        if any(s.kind is PluginKind.AGGREGATE for s in plan.processors):
            return
        self._per_batch = True
        self._positions = {s.id: (s.config.plugin.label, probes[s.id]) for s in plan.sources}
        for stage in plan.sinks:
            if is_transactional(stage.plugin):
                self._transactional.add(stage.id)
                sink = cast(TransactionalSink, stage.plugin)
                self._call(stage, "connect", partial(
                    self._committer.start, stage.id, sink, self._saved,
                    [s.id for s in plan.sources]))  # fmt: skip

    def _commit(self, source: Stage, position: bytes) -> None:
        """Make the batch that ended at `position` durable everywhere, then save positions."""
        self._committer.end_batch(source.id)
        for stage in [*self.plan.sinks, *self.plan.dead_letters.values()]:
            if stage.id not in self._transactional:
                self._call(stage, "flush", cast(SinkPlugin, stage.plugin).flush)
            elif stage.id not in self._touched:
                # No record reached this sink: it still records the position, so
                # it never lags the state file by more than the batch in flight.
                sink = cast(TransactionalSink, stage.plugin)
                scope = self._committer.scope(stage.id)
                self._call(stage, "write", partial(sink.write_batch_at, [], scope,
                                                   source.id, position))  # fmt: skip
        self._touched.clear()
        self._positions[source.id] = (source.config.plugin.label, position)
        self._state.save(dict(self._positions), self._sizes())

    def _save_positions(self) -> None:
        positions = {}
        for stage in self.plan.sources:
            source = cast(SourcePlugin, stage.plugin)
            position = self._call(stage, "checkpoint", source.checkpoint)
            positions[stage.id] = (stage.config.plugin.label, position)
        if any(pos for _, pos in positions.values()) or self._state.path.exists():
            self._state.save(positions, self._sizes())
