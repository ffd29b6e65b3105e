"""What runs on a Dask worker: one partition through the local executor.

Each task builds its plan from the derived pipeline (`derive`) and runs the
ordinary `Executor`, so limits, capabilities, ``on_error``, dead letters
and poison-record isolation are exactly the local engine's. Component
bytes arrive once per worker (scattered by the coordinator, keyed by their
sha256) and are written to a worker-local file named by that digest; the
process-wide compile cache keeps compiled components in memory
(`CompileCache.remember`), so a worker compiles or loads each component
once, whatever number of tasks it runs; its WASM processor instances are
lent from one task to the next (`kept`).

A failure comes back as text in `PartResult.failure` rather than as an
exception: the host's errors carry arguments that do not survive pickling,
and a failed partition is not retried (a record that fails under
``on_error: fail`` fails again). A worker that dies is another matter:
Dask runs its tasks again elsewhere.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dataflare.errors import DataFlareError
from dataflare.pipeline.config import parse_config
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import AggregateStage, build_plan
from dataflare.pipeline.stats import RunStats
from dataflare.plugins import registry
from dataflare.runtime.cache import default_cache
from dataflare.scaleout.derive import Raw, with_components
from dataflare.scaleout.kept import drop_all, kept_loader

__all__ = [
    "Counts",
    "PartResult",
    "component_dir",
    "local_component",
    "run_partition",
    "stage_counts",
]

Counts = dict[str, tuple[int, int, int]]
"""Stage id -> (records in, records out, errors)."""


def stage_counts(stats: RunStats) -> Counts:
    """The `Counts` of a finished run."""
    return {sid: (s.records_in, s.records_out, s.errors) for sid, s in stats.stages.items()}


@dataclass(slots=True)
class PartResult:
    """What a task reports: its counters, an accumulator when it folded, or its failure."""

    index: int
    counts: Counts = field(default_factory=dict)
    accumulator: bytes | None = None
    failure: str | None = None
    worker_pid: int = 0
    seconds: float = 0.0


def component_dir() -> Path:
    """Where this worker keeps the components it was sent (``$DATAFLARE_DASK_COMPONENTS``)."""
    found = os.environ.get("DATAFLARE_DASK_COMPONENTS")
    if found:
        return Path(found)
    return Path(tempfile.gettempdir()) / f"dataflare-components-{os.getuid()}"


def local_component(digest: str, data: bytes) -> str:
    """The worker-local file of the component with sha256 `digest`, written once."""
    folder = component_dir()
    path = folder / f"{digest}.wasm"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{digest}-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)  # atomic: tasks on other threads never see half a file
    return str(path)


def run_partition(
    index: int,
    pipeline: str,
    derived: Raw,
    components: Mapping[str, str],
    blobs: Mapping[str, bytes],
    fold: str | None = None,
) -> PartResult:
    """Run partition `index` of the pipeline file `pipeline` as `derived` says.

    `components` maps a WASM stage id to its component's sha256, `blobs` a
    sha256 to its bytes. With `fold` (an aggregate stage id), the plan stops
    at that aggregate, which folds without emitting, and its accumulator is
    returned; sinks other than dead-letter ones are not used.
    """
    started = time.perf_counter()
    default_cache().remember = True
    paths = {stage: local_component(digest, blobs[digest]) for stage, digest in components.items()}
    text = json.dumps(with_components(derived, paths), indent=1)
    result = PartResult(index, worker_pid=os.getpid())
    try:
        config, problems = parse_config(
            pipeline, direct_types=registry.available, text=text, display=f"{pipeline} ({index})"
        )
        problems.raise_if_any()
        stages = {s.id: s for s in config.stages}
        plan = build_plan(config, wasm_loader=kept_loader(stages))
        if fold is not None:
            cut = next(n for n, s in enumerate(plan.processors) if s.id == fold)
            dropped = [*plan.processors[cut + 1 :], *plan.sinks]
            plan.processors, plan.sinks = plan.processors[: cut + 1], []
            for stage in dropped:
                stage.plugin.close()
        executor = Executor(plan, emit=fold is None)
        stats = executor.run()
        if fold is not None:
            result.accumulator = executor.accumulators[fold]
            assert isinstance(plan.processors[-1], AggregateStage)
    except DataFlareError as exc:
        drop_all()  # an instance may be left mid-call: none is lent again
        result.failure = str(exc)
        return result
    result.counts = stage_counts(stats)
    result.seconds = time.perf_counter() - started
    return result
