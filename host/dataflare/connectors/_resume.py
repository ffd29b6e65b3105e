"""Durable file sinks: cut back to the committed size on resume, fsync on flush and close.

The executor calls a file sink's `resume_at` before `connect` on a resumed
run (see `dataflare.pipeline.checkpoints.ResumableFileSink`); the sink keeps
the request in a `Resume` and applies it with `Resume.cut` when it opens the
file.
"""

from __future__ import annotations

import os
from typing import IO, Any

from dataflare.errors import PluginIoError

__all__ = ["Resume", "close_durably", "size_of", "sync"]


class Resume:
    """Whether a file sink continues a previous run, and at which size."""

    def __init__(self) -> None:
        self.active = False
        self.size: int | None = None

    def request(self, size: int | None) -> None:
        """Continue the file: at `size` bytes, or as it is when `size` is None."""
        self.active = True
        self.size = size

    def cut(self, plugin: str, path: str) -> None:
        """Truncate `path` to the requested size; refuse a file shorter than that.

        A shorter (or missing) file lost records the checkpoint says were
        committed: appending would hide the gap, so the run stops instead.
        """
        if not self.active or self.size is None:
            return
        try:
            actual = os.path.getsize(path)
        except FileNotFoundError:
            actual = -1
        except OSError as exc:
            raise PluginIoError(f"plugin {plugin!r}: cannot read {path}: {exc.strerror}") from exc
        if actual < self.size:
            found = "missing" if actual < 0 else f"only {actual} bytes"
            raise PluginIoError(
                f"plugin {plugin!r}: {path} is {found}, but the checkpoint says {self.size} "
                "bytes of it were committed: it was truncated, replaced or removed since the "
                "last run; restore it, or delete the pipeline's state file to start over"
            )
        if actual > self.size:
            try:
                os.truncate(path, self.size)
            except OSError as exc:
                raise PluginIoError(
                    f"plugin {plugin!r}: cannot cut {path} back to {self.size} bytes: "
                    f"{exc.strerror}"
                ) from exc


def size_of(handle: IO[Any] | None, plugin: str) -> int:
    """The size in bytes of the open file `handle`; after `sync` all of it is durable."""
    if handle is None:
        raise PluginIoError(f"plugin {plugin!r}: committed_size before connect")
    try:
        return os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise PluginIoError(f"plugin {plugin!r}: {exc}") from exc


def sync(handle: IO[Any], plugin: str) -> None:
    """Flush `handle` and fsync it, so the records written so far survive a crash."""
    try:
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as exc:
        raise PluginIoError(f"plugin {plugin!r}: flushing {handle.name} failed: {exc}") from exc


def close_durably(handle: IO[Any] | None, plugin: str) -> None:
    """`sync` then close `handle` (None: already closed); closes it even if the sync fails."""
    if handle is None:
        return
    try:
        sync(handle, plugin)
    finally:
        handle.close()
