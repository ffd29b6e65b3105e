"""`reload: watch`: a thread that asks for a hot plug when a stage's component file changes.

The file is polled every `POLL_SECONDS` (stat is cheap and works on every
file system, unlike inotify). A change of modification time or size counts
once it has held still for one poll, so a file still being written is not
loaded half-way; then its sha256 must differ from the one running, so
touching the file, or a rebuild to the same bytes, swaps nothing. A refused
swap is not retried until the file changes again.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from dataflare.pipeline.hotplug import HotPlug, file_sha256

__all__ = ["POLL_SECONDS", "ReloadWatch"]

POLL_SECONDS = 0.5

_log = logging.getLogger("dataflare.pipeline.hotplug")

_Stat = tuple[int, int]  # st_mtime_ns, st_size


def _stat(path: Path) -> _Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None  # between a delete and a rename-into-place: look again next poll
    return st.st_mtime_ns, st.st_size


class ReloadWatch:
    """Watches the files of `stages` (ids) and calls `hotplug.request` when one changes."""

    def __init__(self, hotplug: HotPlug, stages: list[str], poll: float = POLL_SECONDS) -> None:
        self.hotplug = hotplug
        self.stages = stages
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, tuple[Path | None, _Stat | None]] = {}
        self._checked: dict[str, str | None] = {}
        """The sha256 last asked for (or found running), per stage: one request per change."""
        self._stable_at: dict[str, _Stat | None] = {}
        """The last file state that held still for a poll and was looked at."""

    def start(self) -> None:
        """Start watching (nothing to do without stages)."""
        if not self.stages:
            return
        for stage in self.stages:
            path, sha = self.hotplug.running(stage)
            stat = None if path is None else _stat(path)
            self._seen[stage] = (path, stat)
            self._stable_at[stage] = stat
            self._checked[stage] = sha
        self._thread = threading.Thread(
            target=self._loop, name="dataflare-reload-watch", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def check(self) -> None:
        """One poll of every watched file (the thread's loop body)."""
        for stage in self.stages:
            path, _ = self.hotplug.running(stage)
            if path is None:
                continue
            stat = _stat(path)
            before_path, before = self._seen[stage]
            self._seen[stage] = (path, stat)
            if stat is None or path != before_path or stat != before:
                continue  # missing, switched by a request, or still changing: wait a poll
            if stat == self._stable_at.get(stage):
                continue
            self._stable_at[stage] = stat
            try:
                sha = file_sha256(path)
            except OSError:
                continue
            running = self.hotplug.running(stage)[1]
            if sha in (running, self._checked.get(stage)):
                continue
            self._checked[stage] = sha
            _log.info("%s changed; hot plugging it", path, extra={"stage": stage})
            self.hotplug.request(stage)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.check()
            except Exception:  # a watcher must never end the run
                _log.exception("watching plugin files failed")
