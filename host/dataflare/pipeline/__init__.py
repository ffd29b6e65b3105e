"""YAML pipelines: file -> validated config -> plan of configured plugins -> executor.

Typical use::

    plan = load_plan("pipeline.yaml")       # ConfigFileError lists every problem
    stats = Executor(plan).run()            # closes every plugin, whatever happens

or `run_pipeline(path)` for both (it also takes the file's content as a
dict). See `dataflare.pipeline.config` for the file format and
`dataflare.pipeline.executor` for the run semantics.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dataflare.pipeline.config import (
    PipelineConfig,
    PluginRef,
    StageConfig,
    load_config,
)
from dataflare.pipeline.executor import (
    META_KIND,
    META_MESSAGE,
    META_STAGE,
    Executor,
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
    "StageStats",
    "WasmLoader",
    "build_plan",
    "load_config",
    "load_plan",
    "run_pipeline",
]


def run_pipeline(
    pipeline: Path | str | Mapping[str, Any],
    *,
    base_dir: Path | str | None = None,
    stop: threading.Event | None = None,
    on_batch: Callable[[RunStats], None] | None = None,
    wasm_loader: WasmLoader | None = None,
) -> RunStats:
    """Validate, plan and run a pipeline; returns the counters.

    `pipeline` is a file path, or a mapping with the file's content (as
    ``yaml.safe_load`` would give). A mapping's relative paths and default
    state file are taken from `base_dir` (default: the working directory),
    and messages name it ``<dict>``. Raises `ConfigFileError` listing every
    problem, or a `PipelineError` when a stage stops the run.
    """
    if isinstance(pipeline, Mapping):
        plan = _plan_from_mapping(pipeline, Path(base_dir or "."), wasm_loader)
    else:
        plan = load_plan(pipeline, wasm_loader=wasm_loader)
    return Executor(plan, stop=stop, on_batch=on_batch).run()


def _plan_from_mapping(
    pipeline: Mapping[str, Any], base_dir: Path, wasm_loader: WasmLoader | None
) -> Plan:
    # JSON is YAML: the one parser (with its size and depth guards) reads both.
    text = json.dumps(dict(pipeline), indent=1)
    name = str(pipeline.get("name") or "pipeline")
    path = base_dir.resolve() / name
    return load_plan(path, wasm_loader=wasm_loader, text=text, display="<dict>")
