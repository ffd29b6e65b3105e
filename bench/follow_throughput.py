"""(j) a followed JSON Lines pipeline in steady state vs the bounded run of the same pipeline.

The same pipeline file, only the source's ``follow`` and ``resume`` apart,
over the same input, run in this process in turn (interleaved rounds, so all
see the same load). Throughput is records/s from the first batch out of the
source to the batch that brings the count to all the input's records
(start-up and closing left out); a followed run is then stopped as SIGTERM
would stop it.

A followed source keeps its position (``follow`` implies ``resume``), so its
batches are committed (sinks fsynced, the state file saved): with file sinks
only, together, at most `checkpoints.GROUP_COMMIT_SECONDS` apart. Target
(issue 15): followed >= 0.8x the bounded run of the same pipeline, the one
without a position (no commits at all, the strictest reading). The bounded
run with ``resume: true`` (the same commits) and a followed run with
``resume: false`` show what the commits cost, apart from following.

    python bench/follow_throughput.py [--quick]
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dataflare.pipeline import Executor, RunStats, load_plan

CASES = [
    ("JSONL -> native Python filter -> JSONL", "json_filter"),
    ("JSONL -> JSONL, no stage", None),
]
BATCH = 1024
TARGET = 0.8
VARIANTS = {
    "bounded": "follow: false",
    "bounded, resume": "follow: false, resume: true",
    "followed": "follow: true",
    "followed, no resume": "follow: true, resume: false",
}
"""The source's flags in each run of a pipeline."""


def _pipeline(tmp: Path, name: str, stage: str | None, flags: str) -> Path:
    processors = (
        ""
        if stage is None
        else "processors:\n  - id: p\n    type: plugin\n    config:\n"
        f"      plugin_type: filter\n      plugin_name: {stage}\n"
        "      params: {field: status, value: active}\n"
    )
    path = tmp / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nbatch_size: {BATCH}\nstate: {name}.state.json\n"
        f"sources:\n  - id: in\n    type: jsonl\n"
        f"    config: {{path: in.jsonl, {flags}}}\n"
        f"{processors}"
        f"sinks:\n  - id: out\n    type: jsonl\n    config: {{path: {name}.out.jsonl}}\n"
    )
    return path


def records_per_second(pipeline: Path, n: int) -> float:
    """Records/s of one run of `pipeline` from its first batch to its `n`-th record read."""
    for leftover in (pipeline.with_suffix(".state.json"), pipeline.with_suffix(".out.jsonl")):
        leftover.unlink(missing_ok=True)  # a followed run would resume at the end
    executor = Executor(load_plan(pipeline))
    marks: list[tuple[float, int]] = []

    def on_batch(stats: RunStats) -> None:
        marks.append((time.perf_counter(), stats.records_read))
        if stats.records_read >= n:
            executor.stop.set()  # what the first SIGTERM does; a bounded run ends here anyway

    executor.on_batch = on_batch
    executor.run()
    start, first = marks[0]
    end, last = next(mark for mark in marks if mark[1] >= n)
    assert last == n, (pipeline, last, n)
    return (last - first) / (end - start)


def rows(quick: bool) -> list[str]:
    """The (j) table: bounded and followed records/s per pipeline, and their ratio."""
    # each bounded run is stopped at its last batch: its "stopped" warning says nothing here
    logging.getLogger("dataflare.pipeline").setLevel(logging.ERROR)
    n = 50_000 if quick else 200_000
    repeats = 3 if quick else 5
    out = [
        "| pipeline | records | bounded rec/s | followed rec/s"
        " | followed ÷ bounded (target ≥ 0.8x) | bounded, resume rec/s"
        " | followed, resume: false rec/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="dataflare-follow-") as name:
        tmp = Path(name)
        lines = (
            json.dumps({"id": i, "status": "active" if i % 2 else "inactive"}) + "\n"
            for i in range(n)
        )
        (tmp / "in.jsonl").write_text("".join(lines))
        for case, (label, stage) in enumerate(CASES):
            runs = {
                variant: _pipeline(tmp, f"p{case}v{i}", stage, flags)
                for i, (variant, flags) in enumerate(VARIANTS.items())
            }
            records_per_second(runs["bounded"], n)  # warm-up: page cache, imports
            speeds: dict[str, list[float]] = {variant: [] for variant in runs}
            for _ in range(repeats):
                for variant, pipeline in runs.items():
                    speeds[variant].append(records_per_second(pipeline, n))
            m = {variant: statistics.median(found) for variant, found in speeds.items()}
            ratio = m["followed"] / m["bounded"]
            verdict = "met" if ratio >= TARGET else "**missed**"
            out.append(
                f"| {label} | {n:,} | {m['bounded']:,.0f} | {m['followed']:,.0f}"
                f" | **{ratio:.2f}x** ({verdict}) | {m['bounded, resume']:,.0f}"
                f" | {m['followed, no resume']:,.0f} |"
            )
            print(f"  (j) {out[-1]}", file=sys.stderr)
    return out


if __name__ == "__main__":
    print("\n".join(rows("--quick" in sys.argv)))
