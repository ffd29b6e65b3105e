"""Run one pipeline and print the seconds it took (`old_release.run_pipeline`'s child).

Usage: python bench/pipeline_driver.py PIPELINE.yaml

Prints the timed run's wall seconds and the CPU seconds the process spent in
it (all threads, the guests' included): on a machine loaded past its cores,
wall time also counts waiting for a core, CPU time only the work.

Whichever `dataflare` is on PYTHONPATH runs it: the current tree or the old
release. The plan (and so the component compile, cached or not) is loaded and
one warm-up run made before the timed run, which is the only one timed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dataflare.pipeline import Executor, load_plan


def main() -> None:
    """Time one run (wall and CPU) of the pipeline named on the command line after a warm-up."""
    path = Path(sys.argv[1])
    Executor(load_plan(path)).run()  # warm-up: caches, arenas, page cache
    plan = load_plan(path)
    start, cpu = time.perf_counter(), time.process_time()
    Executor(plan).run()
    print(f"{time.perf_counter() - start:.6f} {time.process_time() - cpu:.6f}")


if __name__ == "__main__":
    main()
