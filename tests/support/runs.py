"""`dataflare run` as a child process, for tests that kill it mid-run (SIGKILL) and rerun it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def start_run(path: Path) -> subprocess.Popen[bytes]:
    """`python -m dataflare run PATH` in PATH's folder; stderr is piped for failure messages."""
    return subprocess.Popen(
        [sys.executable, "-m", "dataflare", "run", str(path)],
        cwd=path.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def state_stamp(state: Path) -> int:
    """The state file's mtime in ns (0 before it exists): a new value means a commit."""
    return state.stat().st_mtime_ns if state.exists() else 0


def wait_for_commit(
    proc: subprocess.Popen[bytes], state: Path, since: int, timeout: float = 60.0
) -> None:
    """Return once the run committed after `since` (see `state_stamp`), ended, or `timeout` passed.

    Waiting for a commit makes a kill land mid-run, not during interpreter start-up.
    """
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if state_stamp(state) != since:
            return
        time.sleep(0.005)
