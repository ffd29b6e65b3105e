"""Committing source positions batch by batch, so a crash loses nothing and repeats nothing.

When no stage aggregates and some source has a position, every batch is
committed before the next is read:

1. the source's position after the batch is taken (`checkpoint`);
2. each sink that can (SQLite, PostgreSQL: `write_batch_at`) writes the
   batch's records and that position in one transaction;
3. every other sink is flushed (made durable), and each file sink
   (`ResumableFileSink`: ``jsonl``, ``csv``) reports its size;
4. the positions of all sources and the sizes of the file sinks are saved to
   the state file together (atomic replace);
5. the batch's source, if it has ``committed(position: bytes) -> None``
   (`CommittedSource`), is told the position the state file now holds. A
   source that must acknowledge its input upstream (Redis Streams: ``XACK``)
   does it there, so nothing is acknowledged that a crash could still lose.
   A crash before the call leaves the input unacknowledged: the source gets
   it again on restart and must skip what is at or before the restored
   position.

With a transactional sink in the run, steps 2-5 happen after every batch.
Without one, steps 3-5 happen for several batches at once: after the first
batch that ends `GROUP_COMMIT_SECONDS` or more after the last commit, when
every source is idle (`settle`), and when the run stops; until then a
batch is written but not durable, and its position is held back with it.

A crash anywhere leaves the state file at the last commit (file sinks: a
batch or a group of them earlier), and a transactional sink at most one
batch ahead of it. A rerun restores the
state file's positions and replays from there; a sink found ahead skips
exactly the first replayed batch, recognised by its end position (if the
replay ends elsewhere, the run stops instead of guessing). A file sink is
first cut back to the size saved with those positions (whatever it wrote
after them is the replayed part) and then appended to. So SQL and file
sinks receive every record exactly once, dead-letter file sinks included.

Only a resumed run (some source restored a saved position) cuts and appends;
a fresh run follows each file sink's ``mode``. A file sink with no saved
size on a resumed run was added since the state was saved and also follows
its ``mode``; a state file from before sizes were saved (version 1) has no
sizes at all, so its file sinks are appended to as they are (at least once,
as before). A file shorter than its saved size stops the run: records the
checkpoint counts as written are missing.

Aggregating pipelines keep whole-run semantics (positions and sizes saved at
the end), because a crash would lose the accumulator anyway; a rerun cuts
the file sinks back to the end of the last complete run. Their sources are
told `committed` once, after that final save (an interrupted run saves
nothing and tells nothing).

`Commits` does all of this for one run; the executor only says when (`load`,
`restore`, `start`, `begin` and `end` of each batch, `settle`, `save`) and asks
`write_call` how to hand a batch's records to a sink.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar, runtime_checkable

import pyarrow as pa

from dataflare.columns import RecordError, to_records
from dataflare.errors import PipelineError, PluginError
from dataflare.model import PluginKind, Record
from dataflare.pipeline.planner import Plan, SinkStage, SourceStage, Stage
from dataflare.pipeline.stage_calls import errors_of
from dataflare.pipeline.state import StateFile
from dataflare.plugins.kinds import Plugin

__all__ = [
    "GROUP_COMMIT_SECONDS",
    "BatchCommit",
    "Commits",
    "CommittedSource",
    "Committer",
    "Guard",
    "ResumableFileSink",
    "TransactionalSink",
]

GROUP_COMMIT_SECONDS = 1.0
"""Without a transactional sink, batches are made durable together at most this far apart.

A commit (every sink's fsync, the state file's atomic save) costs several ms
on a shared disk, which per batch of 1,000 small records is most of the
run; grouped, a crash replays at most this much input, and each file sink
is still cut back to the size saved with the positions, so nothing is
written twice. Transactional (SQL) sinks commit every batch: each stores its
position with its rows, and may be only one batch ahead of the state file.
"""

T = TypeVar("T")

_Write = Callable[[pa.RecordBatch], Mapping[int, RecordError]]

_log = logging.getLogger("dataflare.pipeline")


@runtime_checkable
class TransactionalSink(Protocol):
    """A sink that stores a source position in the same transaction as a batch."""

    def committed_positions(self, scope: str) -> dict[str, bytes]:
        """Source id -> the position last committed under `scope`."""
        ...

    def write_batch_at(
        self, records: Sequence[Record], scope: str, source: str, position: bytes
    ) -> list[PluginError | None]:
        """Write `records` and store `position` for (`scope`, `source`) atomically."""
        ...


@runtime_checkable
class ResumableFileSink(Protocol):
    """A sink writing one file, which a resumed run cuts back to its committed size."""

    def committed_size(self) -> int:
        """The file's size in bytes; called right after `flush`, so all of it is durable."""
        ...

    def resume_at(self, size: int | None) -> None:
        """Called before `connect` on a resumed run: cut the file to `size` bytes and append.

        None appends to the file as it is. A file shorter than `size` must
        fail `connect` with a `PluginError` that says so.
        """
        ...


@runtime_checkable
class CommittedSource(Protocol):
    """A source that wants to know when a position is durable (to acknowledge its input)."""

    def committed(self, position: bytes) -> None:
        """`position` (from `checkpoint`) is saved: input up to it never needs reading again."""
        ...


class Committer:
    """Tracks what each transactional sink already holds, for one run."""

    def __init__(self, state_path: str) -> None:
        self.state_path = state_path
        self._ahead: dict[tuple[str, str], bytes] = {}

    def scope(self, sink_id: str) -> str:
        """The key a sink's positions are stored under: the state file and the sink id.

        The state file names the run history the positions belong to; two
        pipelines with the same name writing to one database stay apart.
        """
        return f"{self.state_path}#{sink_id}"

    def start(
        self, sink_id: str, sink: TransactionalSink, saved: dict[str, bytes], sources: list[str]
    ) -> None:
        """Compare the sink's committed positions with the state file's (`saved`)."""
        committed = sink.committed_positions(self.scope(sink_id))
        for source in sources:
            held = committed.get(source)
            if held is not None and held != saved.get(source, b""):
                _log.info(
                    "sink holds the batch after the checkpoint of %r; it will skip its replay",
                    source,
                    extra={"stage": sink_id},
                )
                self._ahead[(sink_id, source)] = held

    def already_written(self, sink_id: str, source: str, position: bytes) -> bool:
        """True when the sink committed this batch before a crash (it must skip it)."""
        held = self._ahead.get((sink_id, source))
        return held is not None and held == position

    def end_batch(self, source: str) -> None:
        """After the first replayed batch of `source`: no sink is ahead any more."""
        for key in [k for k in self._ahead if k[1] == source]:
            del self._ahead[key]

    def begin_batch(self, source: str, position: bytes) -> None:
        """Before a batch of `source` that ends at `position` is written anywhere.

        A sink ahead of the state file must hold exactly this batch; anything
        else means the replay differs from the run that crashed.
        """
        for (sink_id, src), held in self._ahead.items():
            if src == source and held != position:
                raise PipelineError(
                    f"sink {sink_id!r} committed source {source!r} up to {held[:80]!r}, but the "
                    f"replay of the next batch ended at {position[:80]!r}: the source or "
                    "batch_size changed since the crash, so exactly-once cannot be kept; "
                    "check the sink, then delete its dataflare_positions row to go on"
                )


class Guard(Protocol):
    """Calls one plugin method of a stage; any failure stops the run, naming the stage."""

    def __call__(self, stage: Stage[Plugin], what: str, call: Callable[[], T], /) -> T:
        """The result of `call()`; `what` names the method in the error."""
        ...


@dataclass(slots=True)
class BatchCommit:
    """One batch in flight: its source, the source's position after it, the sinks it wrote."""

    source: str
    position: bytes
    touched: set[str] = field(default_factory=set)
    """Transactional sinks that stored `position` with records of this batch."""


class Commits:
    """Every commit of one run: the state file, transactional and file sinks, the final save.

    Plugin calls go through `guard`, so a failing sink or source stops the
    run naming its stage, as any other call does.
    """

    def __init__(self, plan: Plan, guard: Guard) -> None:
        self._plan = plan
        self._guard = guard
        self._state = StateFile(plan.config.state_path)
        self._committer = Committer(str(plan.config.state_path.resolve()))
        self._saved: dict[str, bytes] = {}
        self._positions: dict[str, tuple[str, bytes]] = {}
        self._transactional: dict[str, TransactionalSink] = {}
        self._told: dict[str, bytes] = {}
        """Source id -> the position its `committed` was last called with."""
        self._unsaved: dict[str, tuple[SourceStage, bytes]] = {}
        """Source id -> the end of its last batch written but not yet made durable."""
        self._last_durable = time.monotonic()
        # sinks (dead-letter ones too) whose committed size is saved with the positions
        self._files = [
            (stage, stage.plugin)
            for stage in [*plan.sinks, *plan.dead_letters.values()]
            if isinstance(stage.plugin, ResumableFileSink)
        ]
        self.per_batch = False
        """Whether every batch is committed (sources then report a position per batch)."""

    def load(self) -> None:
        """Before the sinks connect: read the state file and, on a resumed run, cut file sinks back.

        A fresh run (no source has a saved position) leaves every file sink
        to its ``mode``.
        """
        saved = self._state.read()
        self._saved = {
            stage.id: saved.position(stage.id, stage.config.plugin.label)
            for stage in self._plan.sources
        }
        if not any(self._saved.values()):
            return
        for stage, sink in self._files:
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
            self._guard(stage, "resume", partial(sink.resume_at, size))

    def restore(self, stage: SourceStage) -> None:
        """After a source connects: move it to its saved position, if it has one."""
        position = self._saved[stage.id]
        if position:
            _log.info("resuming from the saved position", extra={"stage": stage.id})
            self._guard(stage, "restore", partial(stage.plugin.restore, position))

    def start(self) -> None:
        """Before the first read: decide on per-batch commits, learn what sinks already hold."""
        self._last_durable = time.monotonic()  # the first group starts with the batches
        plan = self._plan
        probes = {
            source.id: self._guard(source, "checkpoint", source.plugin.checkpoint)
            for source in plan.sources
        }
        if not any(probes.values()) and not any(self._saved.values()):
            return  # no source can resume: nothing to commit
        # Fail before any sink holds records that no state file would account for.
        self._state.check_writable()
        if any(s.kind is PluginKind.AGGREGATE for s in plan.processors):
            return
        self.per_batch = True
        self._positions = {s.id: (s.config.plugin.label, probes[s.id]) for s in plan.sources}
        sources = [s.id for s in plan.sources]
        for stage in plan.sinks:
            sink = stage.plugin
            if isinstance(sink, TransactionalSink):
                self._transactional[stage.id] = sink
                self._guard(stage, "connect", partial(
                    self._committer.start, stage.id, sink, self._saved, sources))  # fmt: skip

    def begin(self, source: SourceStage, position: bytes) -> BatchCommit:
        """Before a batch that leaves `source` at `position` is written anywhere."""
        self._committer.begin_batch(source.id, position)
        return BatchCommit(source.id, position)

    def write_call(
        self, stage: SinkStage, records: pa.RecordBatch, batch: BatchCommit | None, write: _Write
    ) -> _Write | None:
        """How to write `records` of `batch` to `stage`; None when it holds them already.

        `write` is how the executor writes to the sink; it is kept for any
        sink that does not store positions.

        A transactional sink stores the batch's position with the records.
        Only a call that returned stored it; if none did (the whole call
        failed and its policy dropped the records), `end` stores the position
        on its own, or stops the run if it cannot.
        """
        sink = self._transactional.get(stage.id)
        if batch is None or sink is None:
            return write
        if self._committer.already_written(stage.id, batch.source, batch.position):
            batch.touched.add(stage.id)
            _log.info(
                "skipping %d records this sink committed before a crash",
                records.num_rows,
                extra={"stage": stage.id},
            )
            return None
        scope = self._committer.scope(stage.id)

        def write_at(part: pa.RecordBatch) -> Mapping[int, RecordError]:
            outcomes = sink.write_batch_at(to_records(part), scope, batch.source, batch.position)
            batch.touched.add(stage.id)
            return errors_of(outcomes, part.num_rows)

        return write_at

    def end(self, source: SourceStage, batch: BatchCommit) -> None:
        """Make `batch` durable in every sink, then save the positions and file sizes.

        Without a transactional sink, batches are made durable together, at
        most `GROUP_COMMIT_SECONDS` apart (and by `settle`): until then `batch`
        is only written, and its position is held back with it.
        """
        self._committer.end_batch(source.id)
        self._unsaved[source.id] = (source, batch.position)
        if not self._transactional:
            if time.monotonic() - self._last_durable < GROUP_COMMIT_SECONDS:
                return
            self._durable()
            return
        for stage in [*self._plan.sinks, *self._plan.dead_letters.values()]:
            sink = self._transactional.get(stage.id)
            if sink is None:
                self._guard(stage, "flush", stage.plugin.flush)
            elif stage.id not in batch.touched:
                # No record reached this sink: it still records the position, so
                # it never lags the state file by more than the batch in flight.
                scope = self._committer.scope(stage.id)
                self._guard(stage, "write", partial(sink.write_batch_at, [], scope,
                                                    source.id, batch.position))  # fmt: skip
        self._save_unsaved()

    def settle(self) -> None:
        """Make every batch written so far durable now (the stream is idle, or the run stops)."""
        if self._unsaved:
            self._durable()

    def _durable(self) -> None:
        """Flush every sink (all are file-like here), then save the held-back positions."""
        for stage in [*self._plan.sinks, *self._plan.dead_letters.values()]:
            self._guard(stage, "flush", stage.plugin.flush)
        self._save_unsaved()

    def _save_unsaved(self) -> None:
        for source_id, (source, position) in self._unsaved.items():
            self._positions[source_id] = (source.config.plugin.label, position)
        self._state.save(dict(self._positions), self._sizes())
        self._last_durable = time.monotonic()
        told, self._unsaved = self._unsaved, {}
        for source, position in told.values():
            self._tell(source, position)

    def save(self) -> None:
        """After a complete run, sinks flushed: save where every source ended."""
        positions = {}
        for stage in self._plan.sources:
            position = self._guard(stage, "checkpoint", stage.plugin.checkpoint)
            positions[stage.id] = (stage.config.plugin.label, position)
        if any(pos for _, pos in positions.values()) or self._state.path.exists():
            self._state.save(positions, self._sizes())
            for stage in self._plan.sources:
                self._tell(stage, positions[stage.id][1])

    def _tell(self, stage: SourceStage, position: bytes) -> None:
        """After a save: tell the source that `position` is committed, if it asks to know.

        Once per position: the final save repeats the last batch's.
        """
        if not position or self._told.get(stage.id) == position:
            return
        if isinstance(stage.plugin, CommittedSource):
            self._guard(stage, "committed", partial(stage.plugin.committed, position))
            self._told[stage.id] = position

    def _sizes(self) -> dict[str, tuple[str, int]]:
        """Stage id -> (plugin label, size) of every file sink; call right after flushing."""
        return {
            stage.id: (stage.config.plugin.label, self._guard(stage, "flush", sink.committed_size))
            for stage, sink in self._files
        }
