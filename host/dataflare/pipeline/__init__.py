"""YAML pipelines: file -> validated config -> plan of configured plugins -> executor.

Typical use::

    plan = load_plan("pipeline.yaml")       # ConfigFileError lists every problem
    stats = Executor(plan).run()            # closes every plugin, whatever happens

or `run_pipeline(path)` for both. See `dataflare.pipeline.config` for the
file format and `dataflare.pipeline.executor` for the run semantics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from dataflare.pipeline.config import PipelineConfig, PluginRef, StageConfig, load_config
from dataflare.pipeline.executor import (
    META_KIND,
    META_MESSAGE,
    META_STAGE,
    Executor,
    StageFailed,
)
from dataflare.pipeline.planner import Plan, Stage, WasmLoader, build_plan, load_plan
from dataflare.pipeline.stats import RunStats, StageStats

__all__ = [
    "META_KIND",
    "META_MESSAGE",
    "META_STAGE",
    "Executor",
    "PipelineConfig",
    "Plan",
    "PluginRef",
    "RunStats",
    "Stage",
    "StageConfig",
    "StageFailed",
    "StageStats",
    "WasmLoader",
    "build_plan",
    "load_config",
    "load_plan",
    "run_pipeline",
]


def run_pipeline(
    path: Path | str,
    *,
    stop: threading.Event | None = None,
    on_batch: Callable[[RunStats], None] | None = None,
    wasm_loader: WasmLoader | None = None,
) -> RunStats:
    """Validate, plan and run the pipeline file at `path`; returns the counters."""
    plan = load_plan(path, wasm_loader=wasm_loader)
    return Executor(plan, stop=stop, on_batch=on_batch).run()
