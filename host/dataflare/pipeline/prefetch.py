"""Reading a source's next batch on a thread while the current batch is processed.

A WASM stage releases the GIL while guest code runs (ctypes does), and a
sink's fsync releases it too; a source reading on its own thread fills that
time with the next batch's parsing. Where nothing releases the GIL for long
(only native stages), the two threads just take turns and the handovers
cost more than they save, so the executor reads inline (`ReadInline`, the
same interface, no thread) unless some stage runs WebAssembly.

`ReadAhead` holds at most one finished batch besides the one being read, so
with the batch being processed at most three batches per source are in
memory; the source is only called from its reader thread while that runs
(never from two threads at once).

The reader stops at the end of the input, on an error (re-raised by `next`
in the consumer's thread), or when asked to (`stop`): then it finishes the
read in progress, and `next` hands out what was already read before
reporting the end, so a stop request loses no record that was read.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

__all__ = ["ReadAhead", "ReadInline", "Reader"]

_log = logging.getLogger("dataflare.pipeline")

B = TypeVar("B")
B_co = TypeVar("B_co", covariant=True)

_JOIN_TIMEOUT = 10.0  # seconds to wait for a read in progress when a run fails


class _End:
    """The reader's last item: the input ended, the reader stopped, or `error`."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Reader(Protocol[B_co]):
    """Batches from one source, in order; None once the input ended or reading stopped."""

    def next(self) -> B_co | None:
        """The next batch, or None at the end."""
        ...

    def stop(self) -> None:
        """Read no further batch; what was already read still comes out of `next`."""
        ...

    def abandon(self) -> None:
        """Stop and drop what was read: the run failed."""
        ...


class ReadInline(Generic[B]):
    """`ReadAhead`'s interface without the thread: `next` calls `read` itself."""

    def __init__(self, name: str, read: Callable[[], B], is_empty: Callable[[B], bool]) -> None:
        self._read = read
        self._is_empty = is_empty
        self._done = False

    def next(self) -> B | None:
        """The next batch, read now, or None at the end."""
        if self._done:
            return None
        batch = self._read()
        if self._is_empty(batch):
            self._done = True
            return None
        return batch

    def stop(self) -> None:
        """Read no further batch."""
        self._done = True

    def abandon(self) -> None:
        """Read no further batch."""
        self._done = True


class ReadAhead(Generic[B]):
    """Calls `read` on a thread until it returns an empty batch; `next` takes the batches.

    `read` returns one batch (whatever the caller needs with it, e.g. the
    source position after it); `is_empty` says when it marks the end.
    """

    def __init__(self, name: str, read: Callable[[], B], is_empty: Callable[[B], bool]) -> None:
        self._read = read
        self._is_empty = is_empty
        self._items: queue.Queue[B | _End] = queue.Queue(maxsize=1)
        self._stopping = threading.Event()
        self._done = False
        self._thread = threading.Thread(
            target=self._run, name=f"dataflare-read-{name}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                batch = self._read()
                if self._is_empty(batch):
                    break
                self._items.put(batch)
        except BaseException as exc:  # handed to the consumer, who decides
            self._items.put(_End(exc))
            return
        self._items.put(_End())

    def next(self) -> B | None:
        """The next batch, or None once the input ended or the reader stopped.

        Re-raises, in the caller's thread, whatever the reader raised.
        """
        if self._done:
            return None
        item = self._items.get()
        if isinstance(item, _End):
            self._done = True
            self._thread.join()
            if item.error is not None:
                raise item.error
            return None
        return item

    def stop(self) -> None:
        """Start no new read; batches already read still come out of `next`."""
        self._stopping.set()

    def abandon(self) -> None:
        """Stop and drop what was read (the run failed); wait for a read in progress.

        After this the source is no longer called from the reader thread,
        unless a read is stuck for longer than the join timeout (logged).
        """
        self._stopping.set()
        while not self._done:
            try:
                item = self._items.get(timeout=_JOIN_TIMEOUT)
            except queue.Empty:
                _log.warning(
                    "a source read is still running after %.0f s; closing anyway",
                    _JOIN_TIMEOUT,
                    extra={"stage": self._thread.name.removeprefix("dataflare-read-")},
                )
                return
            self._done = isinstance(item, _End)
        self._thread.join()
