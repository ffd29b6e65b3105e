"""The coordinator: plan once, send one task per partition, combine, finish.

1. Load and validate the plan here (errors are reported before any worker
   is asked for anything); ask each source for its partitions.
2. Send each WASM component's bytes to every worker once (``scatter`` with
   ``broadcast``), keyed by sha256.
3. Submit one task per partition (`tasks.run_partition`). Without an
   aggregate, each task runs the whole pipeline for its partition.
4. With an aggregate that can ``merge``, tasks fold and return their
   accumulators; the coordinator merges them pairwise (a tree, in partition
   order), then runs the aggregate's ``emit`` and every stage after it into
   the sinks, with the local executor. An aggregate without ``merge`` (a
   0.1 component) cannot be split: tasks write what reaches it to part
   files, and one final task folds them all, in partition order.

Dask retries the tasks of a worker that dies (``distributed``'s
``allowed-failures``); a retried task resumes from its partition's state
file and its SQL sinks' positions, so it neither loses nor repeats a
committed batch. Each partition has its own state file,
``STATE.part-00000``, kept across runs as the local engine keeps its one;
only a file source told to keep positions for this run's sake (a SQL sink)
keeps them under ``STATE.dask-RUNID/``, removed when the run succeeds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from dataflare.errors import PipelineError
from dataflare.pipeline.checkpoints import TransactionalSink
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.partitions import SourcePartitions, source_partitions
from dataflare.pipeline.planner import AggregateStage, Plan, load_plan
from dataflare.plugins.base import AggregateBase
from dataflare.plugins.kinds import is_unbounded
from dataflare.scaleout.derive import (
    FILE_TYPES,
    Raw,
    after_aggregate,
    aggregate_input,
    partition_pipeline,
)
from dataflare.scaleout.tasks import Counts, PartResult, run_partition, stage_counts

__all__ = ["DaskPlan", "DaskSummary", "dask_client", "plan_for_dask", "run_on_dask"]

_log = logging.getLogger("dataflare.scaleout")


def can_merge(stage: AggregateStage) -> bool:
    """Whether the aggregate's accumulators can be merged (0.2 components, native overrides)."""
    merge = getattr(type(stage.plugin), "merge", None)
    return merge is not None and merge is not AggregateBase.merge


@dataclass(slots=True)
class Partition:
    """One task's share: the source it reads and the parameters replacing that source's own."""

    index: int
    source: str
    overrides: dict[str, str]


@dataclass(slots=True)
class DaskPlan:
    """How a plan runs on Dask: its partitions and what happens at the first aggregate."""

    splits: list[SourcePartitions]
    partitions: list[Partition]
    aggregate: str | None = None
    merges: bool = True

    def describe(self) -> str:
        """The Dask part of ``dataflare run --engine dask --dry-run``."""
        lines = [f"  on Dask: {len(self.partitions)} partition task(s)"]
        for split in self.splits:
            lines.append(f"    source {split.stage}: {split.note}")
        if self.aggregate is not None:
            if self.merges:
                how = "folded per partition, accumulators merged (tree), then emitted"
            else:
                how = (
                    "cannot merge (no `merge`, e.g. a 0.1 component): folded in one final "
                    "task over every partition's records"
                )
            lines.append(f"    aggregate {self.aggregate}: {how}")
        return "\n".join(lines)


@dataclass(slots=True)
class DaskSummary:
    """What a Dask run did: per-stage counts summed over tasks, and each task's result."""

    counts: Counts = field(default_factory=dict)
    results: list[PartResult] = field(default_factory=list)

    def add(self, counts: Counts) -> None:
        """Add one task's (or the final step's) counts."""
        for stage, (got, out, errors) in counts.items():
            old = self.counts.get(stage, (0, 0, 0))
            self.counts[stage] = (old[0] + got, old[1] + out, old[2] + errors)


_LOCAL_ONLY = {
    "stdin": "reads this process's standard input",
    "stdout": "writes to this process's standard output",
}


def plan_for_dask(plan: Plan) -> DaskPlan:
    """Ask each source of `plan` for its partitions; find the first aggregate.

    Raises `PipelineError` for what a task on a worker cannot do: read or
    write this process's standard streams, or run until stopped (a stop
    request reaches this process, not the workers).
    """
    for stage in [*plan.sources, *plan.sinks, *plan.dead_letters.values()]:
        why = _LOCAL_ONLY.get(stage.config.plugin.name or "")
        if why is not None and stage.config.plugin.wasm_path is None:
            raise PipelineError(
                f"stage {stage.id!r} {why}, which a Dask worker cannot: use --engine local"
            )
    for stage in plan.sources:
        if is_unbounded(stage.plugin):
            raise PipelineError(
                f"source {stage.id!r} never ends (follow or poll_interval_ms): a Dask run is "
                "bounded; use --engine local"
            )
    splits = [source_partitions(stage) for stage in plan.sources]
    shares = ((split.stage, part) for split in splits for part in split.parts)
    partitions = [Partition(index, stage, part) for index, (stage, part) in enumerate(shares)]
    found = next((s for s in plan.processors if isinstance(s, AggregateStage)), None)
    if found is None:
        return DaskPlan(splits, partitions)
    return DaskPlan(splits, partitions, found.id, can_merge(found))


@contextmanager
def dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A client of the cluster at `scheduler`, or of a new `LocalCluster` of processes."""
    try:
        import distributed
    except ImportError:
        raise PipelineError("--engine dask needs Dask: pip install 'dataflare[dask]'") from None
    # distributed has no type hints: its classes are Any here
    Client: Any = distributed.Client
    LocalCluster: Any = distributed.LocalCluster
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    count = workers or os.cpu_count() or 1
    # ":0": the scheduler's HTTP server on a free port; a taken 8787 would only warn
    with (
        LocalCluster(
            n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_on_dask(path: str | Path, client: Any) -> DaskSummary:
    """Run the pipeline file at `path` on the cluster of `client`; raises `PipelineError`."""
    pipeline = str(Path(path).resolve())
    with open(pipeline, encoding="utf-8") as handle:
        raw: Raw = yaml.safe_load(handle)
    plan = load_plan(pipeline)
    closed = False
    try:
        dask_plan = plan_for_dask(plan)
        state = plan.config.state_path
        run = uuid.uuid4().hex[:12]
        scratch = state.parent / f"{state.name}.dask-{run}"
        scratch.mkdir(parents=True, exist_ok=True)
        digests, blobs = _ship(plan, client)
        dead = set(plan.config.dead_letter_ids)
        # exactly once in a SQL sink needs a commit per batch; file sinks are rewritten whole
        positions = any(isinstance(s.plugin, TransactionalSink) for s in plan.sinks)
        # A partition keeps its state across runs (`STATE.part-00000`), as the local engine
        # keeps a source's, unless positions are only kept for this run's retries: then its
        # state is the run's, and a rerun reads the source again as a local rerun would.
        for_this_run = {
            s.id
            for s in plan.sources
            if positions
            and s.config.plugin.name in FILE_TYPES
            and s.config.params.get("resume") != "true"
        }
        futures = []
        for part in dask_plan.partitions:
            name = f"part-{part.index:05d}"
            part_state = (
                scratch / f"{name}.state.json"
                if part.source in for_this_run
                else state.with_name(f"{state.name}.{name}")
            )
            derived = partition_pipeline(
                raw,
                source=part.source,
                overrides=part.overrides,
                index=part.index,
                state=part_state,
                positions=positions,
            )
            fold = None
            if dask_plan.aggregate is not None:
                if dask_plan.merges:
                    fold = dask_plan.aggregate
                else:
                    derived = aggregate_input(
                        derived,
                        aggregate=dask_plan.aggregate,
                        path=str(scratch / f"input.{name}.jsonl"),
                        dead_letters=dead,
                    )
            futures.append(
                client.submit(
                    run_partition,
                    part.index,
                    pipeline,
                    derived,
                    digests,
                    blobs,
                    fold,
                    key=f"dataflare-{run}-{name}",
                    pure=False,
                )
            )
        summary = DaskSummary()
        results: list[PartResult] = client.gather(futures)
        _check(results)
        summary.results = results
        for result in results:
            summary.add(result.counts)
        if dask_plan.aggregate is None:
            pass
        elif dask_plan.merges:
            merged = _merge_tree(plan, dask_plan.aggregate, [r.accumulator or b"" for r in results])
            closed = True  # the final step's executor closes the plan
            summary.add(_finish(plan, dask_plan.aggregate, merged, scratch / "final.state.json"))
        else:
            derived = after_aggregate(
                raw,
                aggregate=dask_plan.aggregate,
                inputs=str(scratch / "input.part-*.jsonl"),
                state=scratch / "final.state.json",
            )
            final = client.submit(
                run_partition, -1, pipeline, derived, digests, blobs, None,
                key=f"dataflare-{run}-final", pure=False,
            )  # fmt: skip
            result = final.result()
            _check([result])
            summary.add(result.counts)
        _remove(scratch)
        return summary
    finally:
        if not closed:
            plan.close()


def _ship(plan: Plan, client: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Send each component to every worker once: stage id -> sha256, sha256 -> its future."""
    digests: dict[str, str] = {}
    data: dict[str, bytes] = {}
    for stage in plan.stages:
        where = stage.config.plugin.wasm_path
        if where is None:
            continue
        wasm = Path(where).read_bytes()
        digest = hashlib.sha256(wasm).hexdigest()
        digests[stage.id] = digest
        data[digest] = wasm
    if not data:
        return digests, {}
    futures: dict[str, Any] = client.scatter(data, broadcast=True, hash=False)
    return digests, futures


def _check(results: Sequence[PartResult]) -> None:
    failed = [r for r in results if r.failure is not None]
    if failed:
        first = failed[0]
        where = "the final task" if first.index < 0 else f"partition {first.index}"
        more = f" ({len(failed) - 1} more partitions failed)" if len(failed) > 1 else ""
        raise PipelineError(f"{where} failed: {first.failure}{more}")


def _merge_tree(plan: Plan, aggregate: str, accs: list[bytes]) -> bytes:
    """Merge neighbours pairwise until one accumulator is left (partition order kept)."""
    stage = next(s for s in plan.processors if s.id == aggregate)
    assert isinstance(stage, AggregateStage)
    if not accs:
        return stage.plugin.init()
    while len(accs) > 1:
        pairs = [accs[n : n + 2] for n in range(0, len(accs), 2)]
        accs = [stage.plugin.merge(*pair) if len(pair) == 2 else pair[0] for pair in pairs]
    return accs[0]


def _finish(plan: Plan, aggregate: str, merged: bytes, state: Path) -> Counts:
    """Emit `merged` and run it through the stages after `aggregate` into the sinks."""
    cut = next(n for n, s in enumerate(plan.processors) if s.id == aggregate)
    for stage in [*plan.sources, *plan.processors[:cut]]:
        stage.plugin.close()
    plan.sources, plan.processors = [], plan.processors[cut:]
    plan.config = replace(plan.config, state_path=state)
    stats = Executor(plan, accumulators={aggregate: merged}).run()
    return stage_counts(stats)


def _remove(scratch: Path) -> None:
    """Remove a run's scratch folder (partition states, aggregate inputs) after success."""
    if not scratch.exists():
        return
    for entry in scratch.iterdir():
        entry.unlink()
    scratch.rmdir()
