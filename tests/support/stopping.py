"""Running a pipeline with a stop request once enough records were read."""

from __future__ import annotations

import threading
from pathlib import Path

from dataflare.pipeline import Executor, RunStats, load_plan


def run_stopping_after(path: Path, records: int) -> RunStats:
    """Run `path`, setting the stop event after the batch that brings the count to `records`."""
    stop = threading.Event()

    def after_batch(stats: RunStats) -> None:
        if stats.records_read >= records:
            stop.set()

    return Executor(load_plan(path), stop=stop, on_batch=after_batch).run()
