"""Section (s) of bench/run.py: the hot-plug swap pause of a cached component.

A JSON Lines pipeline runs a WASM transform; every `EVERY` batches the stage
is asked to reload its (unchanged, so cached) component, and the executor
waits in its progress hook until the new plugin is prepared, so that each
swap lands on the next batch. The pause is `SwapOutcome.pause_ms`: from the
end of the last batch on the old plugin (after the progress hook) to the
new one being in place, just before the first batch on it. Prepare = the
request until the new plugin is ready (compile from the cache, instantiate,
configure, probe), which runs on the hot-plug thread while batches go on.
p99 of 20 samples is the nearest rank, i.e. the largest.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

SWAPS = 20
EVERY = 5
BATCH = 256

CASES = (
    # (language, guest, params, p99 target ms)
    ("rust", "echo", {"tag": "bench"}, 50.0),
    ("python", "mask_email", {"field": "email"}, 200.0),
)


def _pipeline(folder: Path, wasm: Path, params: dict[str, str]) -> Path:
    records = (SWAPS + 2) * EVERY * BATCH
    source = folder / "in.jsonl"
    with source.open("w") as out:
        for i in range(records):
            out.write(json.dumps({"n": i, "email": f"user{i}@example.com"}) + "\n")
    shown = ", ".join(f"{k}: {v}" for k, v in params.items())
    path = folder / "swap.yaml"
    path.write_text(
        f"batch_size: {BATCH}\n"
        "sources:\n  - {id: in, type: jsonl, config: {path: in.jsonl}}\n"
        "processors:\n"
        f"  - {{id: t, type: plugin, config: {{plugin_type: transform, plugin_source: wasm, "
        f"plugin_path: {wasm}, params: {{{shown}}}}}}}\n"
        "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
    )
    return path


def measure(wasm: Path, params: dict[str, str]) -> dict[str, Any]:
    """Pauses and prepare times (ms) of `SWAPS` reloads of `wasm` in a running pipeline."""
    from dataflare.pipeline import Executor, load_plan

    with tempfile.TemporaryDirectory(prefix="dataflare-swap-") as tmp:
        plan = load_plan(_pipeline(Path(tmp), wasm.resolve(), params))
        executor = Executor(plan)
        futures: list[Future[Any]] = []
        prepare: list[float] = []
        batches = 0

        def on_batch(_stats: object) -> None:
            nonlocal batches
            batches += 1
            if batches % EVERY or len(futures) == SWAPS:
                return
            asked = time.perf_counter()
            future = executor.hotplug.request("t")
            while not (executor.hotplug.ready("t") or future.done()):
                time.sleep(0.0005)
            prepare.append((time.perf_counter() - asked) * 1e3)
            futures.append(future)

        executor.on_batch = on_batch
        executor.run()
        outcomes = [f.result(timeout=60) for f in futures]
    refused = [o.reason for o in outcomes if not o.ok]
    if refused:
        raise RuntimeError(f"swaps refused: {refused[:3]}")
    pauses = sorted(o.pause_ms for o in outcomes)
    return {"pauses": pauses, "prepare": sorted(prepare)}


def _p99(values: list[float]) -> float:
    return values[max(0, math.ceil(0.99 * len(values)) - 1)]


def rows(guest: Callable[[str, str], Path]) -> list[str]:
    """Rows for (s); `guest(lang, name)` builds (make) and returns a component."""
    out = [
        "| component | MB | swaps | pause p50 ms | pause p99 ms | target p99 | prepare p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for lang, name, params, target in CASES:
        wasm = guest(lang, name)
        got = measure(wasm, params)
        pauses, prepare = got["pauses"], got["prepare"]
        p99 = _p99(pauses)
        verdict = "met" if p99 <= target else "MISSED"
        out.append(
            f"| {lang}/{name} | {wasm.stat().st_size / 1e6:.1f} | {len(pauses)} "
            f"| {statistics.median(pauses):.3f} | {p99:.3f} | {target:.0f} ms ({verdict}) "
            f"| {statistics.median(prepare):,.0f} |"
        )
    return out
