"""Ctrl-C as a polite stop: the first one finishes the batch in flight, the second aborts.

Guest calls run on their own threads while the main thread waits in a way
Python interrupts for signals (`dataflare.runtime.guestcall`), so both
presses are seen during a long guest call, and the second one abandons
every guest call in progress instead of waiting for it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from dataflare.runtime.guestcall import abort_guest_calls, allow_guest_calls

__all__ = ["stop_on_sigint"]

_log = logging.getLogger("dataflare.pipeline")


@contextmanager
def stop_on_sigint(stop: threading.Event) -> Iterator[threading.Event]:
    """While active, the first SIGINT sets `stop`; a second raises `KeyboardInterrupt`.

    The second also aborts guest calls on every thread (new ones fail at
    once, so closing the plugins does not wait for guests); leaving the
    context allows them again.

    Outside the main thread (where Python cannot install signal handlers)
    this does nothing, and Ctrl-C keeps its default behaviour.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            abort_guest_calls()
            raise KeyboardInterrupt
        stop.set()
        _log.warning("interrupted: finishing the current batch and closing (Ctrl-C again to abort)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
        allow_guest_calls()
