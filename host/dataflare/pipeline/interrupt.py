"""Ctrl-C or SIGTERM as a polite stop: the first finishes the batch in flight, the second aborts.

SIGTERM (what service managers and ``kill`` send) counts like Ctrl-C, so a
pipeline run as a service drains the same way: the batch in flight is
written and committed, every plugin closed, and (unbounded runs) the exit
code is 0. A second SIGINT or SIGTERM, of either kind, aborts.

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

__all__ = ["STOP_SIGNALS", "stop_on_signals"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that ask a run to stop."""

_log = logging.getLogger("dataflare.pipeline")


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """While active, the first SIGINT or SIGTERM sets `stop`; a second raises `KeyboardInterrupt`.

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
        _log.warning(
            "interrupted: finishing the current batch and closing (%s; a second signal aborts)",
            signal.Signals(signum).name,
        )

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)
        allow_guest_calls()
