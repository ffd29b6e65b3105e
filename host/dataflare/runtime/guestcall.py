"""Running guest calls on a thread of their own, so that waiting for one is bounded.

Epoch interruption stops guest *code*; it cannot stop a guest blocked in a
host call, such as `std::thread::sleep` or Python's `time.sleep`, which wait
in wasmtime's WASI `poll` (measured: a 20 s sleep under a 2 s limit ran the
full 20 s). wasmtime-py lets us shadow a WASI function but not wait on a
WASI pollable ourselves, so a shadow could only deny the call, not bound it.
So each call runs on a `GuestThread` and the caller waits for it with a
deadline: past the deadline (or on `abort_guest_calls`, the second Ctrl-C)
the caller gives up, and the thread with its store is abandoned: never used
again, closed by the thread itself once the blocked host call returns (the
guest then traps at once, its epoch deadline being long past). Until then it
costs one thread and the store's memory (`stuck_calls` counts them).

Waiting happens on the caller's thread in `threading.Event.wait`, which
Python interrupts for signal handlers, so Ctrl-C is handled during a call
instead of after it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from dataflare.errors import CallAborted

__all__ = [
    "GRACE_SECONDS",
    "CallAbandoned",
    "GuestThread",
    "abort_guest_calls",
    "allow_guest_calls",
    "stuck_calls",
]

T = TypeVar("T")

GRACE_SECONDS = 0.5
"""Wait this much past the time limit, so that guest code meets its epoch trap first."""

_IDLE_SECONDS = 5.0  # an idle guest thread exits; the next call starts another
_POLL_SECONDS = 0.1  # how often a waiting caller looks at the abort flag

_ABORT = threading.Event()
_stuck_lock = threading.Lock()
_stuck = 0
_log = logging.getLogger(__name__)


class CallAbandoned(Exception):
    """The caller stopped waiting for a guest call after `waited` seconds (see module doc)."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"abandoned after {waited:.1f}s")
        self.waited = waited


def abort_guest_calls() -> None:
    """Make every waiting caller give up now, and every new call fail with `CallAborted`."""
    _ABORT.set()


def allow_guest_calls() -> None:
    """Undo `abort_guest_calls` (the CLI does, once the aborted run is closed)."""
    _ABORT.clear()


def stuck_calls() -> int:
    """How many abandoned guest calls are still blocked on their threads."""
    return _stuck


def _count_stuck(delta: int) -> None:
    global _stuck
    with _stuck_lock:
        _stuck += delta


class _Job(Generic[T]):
    __slots__ = ("abandoned", "cleanup", "done", "error", "finished", "fn", "lock", "result")

    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        # A bare lock, released when the job ends: cheaper to wait on than an Event.
        self.done = threading.Lock()
        self.done.acquire()
        self.lock = threading.Lock()
        self.finished = False
        self.abandoned = False
        self.cleanup: Callable[[], None] | None = None
        self.result: T | None = None
        self.error: BaseException | None = None

    def execute(self) -> bool:
        """Run the job; True if it had been abandoned (its thread must then exit)."""
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc
        with self.lock:
            self.finished = True
            abandoned = self.abandoned
        self.done.release()
        if abandoned:
            try:
                if self.cleanup is not None:
                    self.cleanup()
            except Exception:
                _log.exception("cleaning up an abandoned guest call")
            finally:
                _count_stuck(-1)
        return abandoned

    def abandon(self, cleanup: Callable[[], None]) -> bool:
        """Hand the job's leftovers to its thread; False if it finished first."""
        with self.lock:
            if self.finished:
                return False
            self.abandoned = True
            self.cleanup = cleanup
        _count_stuck(1)
        return True


class GuestThread:
    """Runs one plugin instance's guest calls, one at a time, on a daemon thread.

    The thread is started on demand and exits after a few idle seconds, or
    for good after an abandoned call; `run` then starts a fresh one.
    """

    def __init__(self, name: str) -> None:
        self._name = f"dataflare-guest-{name}"
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job[object] | None] | None = None
        self.abandoned = False
        """Whether the last `run` gave up on its call (its `on_abandon` then owns the leftovers)."""

    def run(
        self,
        fn: Callable[[], T],
        *,
        timeout: float | None,
        on_abandon: Callable[[], None],
    ) -> T:
        """`fn()` on the guest thread; waits at most `timeout` seconds (None: no bound).

        Raises what `fn` raised; `CallAbandoned` past the deadline; `CallAborted`
        after `abort_guest_calls`; and, on the caller's thread, whatever a
        signal handler raises while it waits (KeyboardInterrupt). In the last
        three cases `on_abandon` runs on the guest thread once `fn` returns:
        it must release what `fn` was using, which the caller must not touch.
        """
        self.abandoned = False
        if _ABORT.is_set():
            raise CallAborted("not started: the run is being aborted")
        job: _Job[T] = _Job(fn)
        self._submit(job)  # type: ignore[arg-type]
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        abandon_with: BaseException | None = None
        try:
            while True:
                wait = _POLL_SECONDS
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        abandon_with = CallAbandoned(time.monotonic() - started)
                        break
                    wait = min(wait, left)
                if job.done.acquire(timeout=wait):
                    break
                if _ABORT.is_set():
                    abandon_with = CallAborted("abandoned: the run is being aborted")
                    break
        except BaseException:
            if job.abandon(on_abandon):
                self._forget()
            raise
        if abandon_with is not None and job.abandon(on_abandon):
            self._forget()
            raise abandon_with
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def close(self) -> None:
        """Let the thread exit (a call in progress finishes first)."""
        with self._lock:
            if self._jobs is not None:
                self._jobs.put(None)
                self._jobs = None

    def _submit(self, job: _Job[object]) -> None:
        with self._lock:
            if self._jobs is None:
                jobs: queue.SimpleQueue[_Job[object] | None] = queue.SimpleQueue()
                threading.Thread(
                    target=self._serve, args=(jobs,), name=self._name, daemon=True
                ).start()
                self._jobs = jobs
            self._jobs.put(job)

    def _forget(self) -> None:
        # The old thread exits after its abandoned job; its queue is empty.
        self.abandoned = True
        with self._lock:
            self._jobs = None

    def _serve(self, jobs: queue.SimpleQueue[_Job[object] | None]) -> None:
        while True:
            try:
                job = jobs.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs is jobs and jobs.empty():
                        self._jobs = None
                        return
                continue
            if job is None or job.execute():
                return
