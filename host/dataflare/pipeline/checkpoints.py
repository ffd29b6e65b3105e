"""Committing source positions batch by batch, so a crash loses nothing and repeats nothing.

When no stage aggregates and some source has a position, every batch is
committed before the next is read:

1. the source's position after the batch is taken (`checkpoint`);
2. each sink that can (SQLite, PostgreSQL: `write_batch_at`) writes the
   batch's records and that position in one transaction;
3. every other sink is flushed (made durable), and each file sink
   (`ResumableFileSink`: ``jsonl``, ``csv``) reports its size;
4. the positions of all sources and the sizes of the file sinks are saved to
   the state file together (atomic replace).

A crash anywhere leaves the state file at the batch before or this batch,
and a transactional sink at most one batch ahead of it. A rerun restores the
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
the file sinks back to the end of the last complete run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from dataflare.errors import PipelineError, PluginError
from dataflare.model import Record

__all__ = [
    "Committer",
    "ResumableFileSink",
    "TransactionalSink",
    "is_resumable_file",
    "is_transactional",
]

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


def is_transactional(plugin: object) -> bool:
    """Whether `plugin` can commit positions with its records."""
    return isinstance(plugin, TransactionalSink)


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


def is_resumable_file(plugin: object) -> bool:
    """Whether `plugin` can continue its file exactly where a checkpoint left it."""
    return isinstance(plugin, ResumableFileSink)


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
