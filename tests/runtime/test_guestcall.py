"""GuestThread: the caller's wait is bounded, and an abandoned call cleans up after itself."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pytest
from dataflare import CallAborted
from dataflare.runtime.guestcall import (
    CallAbandoned,
    GuestThread,
    abort_guest_calls,
    allow_guest_calls,
    stuck_calls,
)


@pytest.fixture
def guest() -> Iterator[GuestThread]:
    thread = GuestThread("test")
    yield thread
    thread.close()
    allow_guest_calls()


def test_results_and_errors_come_back_to_the_caller(guest):
    assert guest.run(lambda: 42, timeout=None, on_abandon=lambda: None) == 42

    def fail() -> None:
        raise ValueError("from the guest thread")

    with pytest.raises(ValueError, match="from the guest thread"):
        guest.run(fail, timeout=5, on_abandon=lambda: None)
    assert not guest.abandoned


def test_a_blocked_call_is_abandoned_at_the_deadline_and_cleaned_up_when_it_returns(guest):
    release = threading.Event()
    cleaned: list[str] = []
    before = stuck_calls()
    started = time.monotonic()
    with pytest.raises(CallAbandoned) as info:
        guest.run(
            lambda: release.wait(30),
            timeout=0.3,
            on_abandon=lambda: cleaned.append(threading.current_thread().name),
        )
    assert time.monotonic() - started < 1.5
    assert info.value.waited >= 0.3
    assert guest.abandoned
    assert stuck_calls() == before + 1 and cleaned == []
    release.set()
    end = time.monotonic() + 5
    while stuck_calls() > before and time.monotonic() < end:
        time.sleep(0.01)
    assert cleaned == ["dataflare-guest-test"]
    assert stuck_calls() == before
    # A fresh thread serves the next call.
    assert guest.run(lambda: "next", timeout=1, on_abandon=lambda: None) == "next"
    assert not guest.abandoned


def test_abort_wakes_a_waiting_caller_and_refuses_new_calls(guest):
    release = threading.Event()
    outcome: list[BaseException] = []

    def caller() -> None:
        try:
            guest.run(lambda: release.wait(30), timeout=None, on_abandon=lambda: None)
        except BaseException as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=caller)
    waiting.start()
    time.sleep(0.2)
    started = time.monotonic()
    abort_guest_calls()
    waiting.join(5)
    assert time.monotonic() - started < 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], CallAborted)
    assert "abandoned: the run is being aborted" in str(outcome[0])
    with pytest.raises(CallAborted, match="not started"):
        GuestThread("other").run(lambda: 1, timeout=None, on_abandon=lambda: None)
    allow_guest_calls()
    release.set()
    assert GuestThread("again").run(lambda: 1, timeout=None, on_abandon=lambda: None) == 1


def test_a_signal_handler_runs_while_the_caller_waits(guest):
    """Ctrl-C's handler must run during a guest call, not after it (issue 11)."""

    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    release = threading.Event()
    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        started = time.monotonic()
        with pytest.raises(Interrupted):
            guest.run(lambda: release.wait(30), timeout=None, on_abandon=lambda: None)
        assert time.monotonic() - started < 1.0
        assert guest.abandoned
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        release.set()
