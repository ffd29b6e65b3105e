"""Section (k) of bench/run.py: the Dask engine, 1 vs 2 worker processes, and worker start-up.

Scaling: N records of JSON Lines in 8 files (8 partitions, so both cluster
sizes get whole shares), through a Rust filter (`json_filter`) and through a
Python transform (`mask_email`), into part files. Each cluster
(`LocalCluster(processes=True, threads_per_worker=1)`) is started and warmed
up (one small run: components shipped and compiled on every worker) outside
the timing; the timed figure is `run_on_dask` end to end (plan, submit,
gather), best of `rounds`. Beside it, the busiest worker's task seconds:
on a machine other work keeps busy the wall figure drops, this one tells
what the tasks themselves took.

Start-up, per worker, per component: transfer = `scatter(broadcast=True)`
of its bytes to every worker of a fresh 2-worker cluster; cold compile =
wasmtime compiling it on a worker with an empty cache; warm load =
loading the compiled artifact from that worker's disk cache in a fresh
`CompileCache` (what a worker's first task pays when the cache is warm); a
later task of the same worker finds it in memory (`CompileCache.remember`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FILES = 8


def _data(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    per = count // FILES
    for f in range(FILES):
        with (folder / f"part{f}.jsonl").open("w") as out:
            for n in range(f * per, (f + 1) * per):
                status = "active" if n % 3 else "gone"
                doc = {"id": n, "user": f"user{n % 1000}", "email": f"u{n}@example.org"}
                out.write(json.dumps({**doc, "status": status, "amount": n % 997}) + "\n")


def _pipeline(folder: Path, name: str, stage: str, inputs: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"""
name: {name}
batch_size: 2048
sources:
  - id: in
    type: jsonl
    config: {{path: "{inputs}"}}
processors:
{stage}
sinks:
  - id: out
    type: jsonl
    config: {{path: out/{name}.jsonl}}
"""
    )
    return path


def _stage(kind: str, wasm: Path, params: str) -> str:
    return f"""  - id: work
    type: plugin
    config: {{plugin_type: {kind}, plugin_source: wasm, plugin_path: {wasm}, params: {params}}}"""


def _cluster(workers: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    return cluster, Client(cluster)


def _scaling(guest: Callable[[str, str], Path], count: int, rounds: int) -> list[str]:

    folder = Path(tempfile.mkdtemp(prefix="dataflare-bench-k-"))
    (folder / "out").mkdir()
    _data(folder / "in", count)
    _data(folder / "warm", FILES * 64)
    try:
        return _scaling_rows(folder, guest, count, rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scaling_rows(
    folder: Path, guest: Callable[[str, str], Path], count: int, rounds: int
) -> list[str]:
    from dataflare.scaleout import run_on_dask

    cases = [
        ("Rust filter", "filter", guest("rust", "json_filter"), "{field: status, value: active}"),
        ("Python transform", "transform", guest("python", "mask_email"), "{field: email}"),
    ]
    rows = [
        "| pipeline | records | 1 worker rec/s | 2 workers rec/s | speed-up (target 1.7x) "
        "| busiest worker's task s, 1 / 2 workers |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for title, kind, wasm, params in cases:
        stage = _stage(kind, wasm, params)
        timed = _pipeline(folder, f"k_{kind}", stage, str(folder / "in" / "*.jsonl"))
        warm = _pipeline(folder, f"k_{kind}_warm", stage, str(folder / "warm" / "*.jsonl"))
        rates, busiest = [], []
        for workers in (1, 2):
            cluster, client = _cluster(workers)
            try:
                run_on_dask(warm, client)
                best, busy = float("inf"), float("inf")
                for _ in range(rounds):
                    started = time.perf_counter()
                    summary = run_on_dask(timed, client)
                    best = min(best, time.perf_counter() - started)
                    per_worker: dict[int, float] = {}
                    for result in summary.results:
                        per_worker[result.worker_pid] = (
                            per_worker.get(result.worker_pid, 0.0) + result.seconds
                        )
                    busy = min(busy, max(per_worker.values()))
            finally:
                client.close()
                cluster.close()
            rates.append(count / best)
            busiest.append(busy)
        rows.append(
            f"| {title} | {count:,} | {rates[0]:,.0f} | {rates[1]:,.0f} | "
            f"{rates[1] / rates[0]:.2f}x | {busiest[0]:.2f} / {busiest[1]:.2f} |"
        )
    return rows


def _compile_on_worker(wasm: bytes, cache: str, warm: bool) -> float:
    """On a worker: seconds to get a compiled component from a cache at `cache` (cold or warm)."""
    from dataflare.runtime.cache import CompileCache
    from dataflare.runtime.engine import DEFAULT_CONFIG

    started = time.perf_counter()
    CompileCache(Path(cache)).compile(wasm, DEFAULT_CONFIG, name="bench")
    return time.perf_counter() - started


def _task_start(wasm: bytes, kind: str, params: dict[str, str]) -> float:
    """On a worker: seconds for a task's plugin once the component is in memory.

    The worker's component file and its in-memory compiled component are
    what `tasks.run_partition` uses; this is the instantiate + configure
    each task then pays.
    """
    import hashlib

    from dataflare.plugins.wasm import load_wasm_plugin
    from dataflare.runtime.cache import default_cache
    from dataflare.scaleout.tasks import local_component

    default_cache().remember = True
    path = local_component(hashlib.sha256(wasm).hexdigest(), wasm)
    load_wasm_plugin(path, kind).close()  # into memory
    started = time.perf_counter()
    plugin = load_wasm_plugin(path, kind)
    plugin.configure(params)
    took = time.perf_counter() - started
    plugin.close()
    return took


def _startup(guest: Callable[[str, str], Path]) -> list[str]:
    rows = [
        "| component | size | transfer to 2 workers | cold compile | warm load (disk cache) "
        "| each task: instantiate + configure |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    cases = (
        ("rust", "json_filter", "filter", {"field": "status", "value": "active"}),
        ("python", "mask_email", "transform", {"field": "email"}),
    )
    scratch: list[str] = []
    for lang, name, kind, params in cases:
        wasm = guest(lang, name).read_bytes()
        cluster, client = _cluster(2)
        try:
            started = time.perf_counter()
            shipped = client.scatter(wasm, broadcast=True, hash=False)
            transfer = time.perf_counter() - started
            cache = tempfile.mkdtemp(prefix="dataflare-bench-cache-")
            scratch.append(cache)
            worker = [next(iter(client.scheduler_info()["workers"]))]
            cold = client.submit(_compile_on_worker, shipped, cache, False, workers=worker)
            warm = client.submit(_compile_on_worker, shipped, cache, True, workers=worker)
            cold, warm = cold.result(), warm.result()
            task = client.submit(_task_start, shipped, kind, params, workers=worker).result()
        finally:
            client.close()
            cluster.close()
            for folder in scratch:
                shutil.rmtree(folder, ignore_errors=True)
        rows.append(
            f"| {lang} {name} | {len(wasm) / 1e6:.1f} MB | {transfer * 1000:.0f} ms | "
            f"{cold * 1000:.0f} ms | {warm * 1000:.0f} ms | {task * 1000:.0f} ms |"
        )
    return rows


def rows(guest: Callable[[str, str], Path], quick: bool) -> list[str]:
    """The section's tables: scaling, then start-up."""
    count = 40_000 if quick else 200_000
    return [
        *_scaling(guest, count, 1 if quick else 3),
        "",
        *_startup(guest),
        "",
        f"(cores: {os.cpu_count()}; load average at the end {os.getloadavg()[0]:.1f})",
    ]
