"""WASM processor instances a Dask worker keeps from one task to the next.

A task builds its plan with `kept_loader`: a WASM filter, transform or
aggregate stage gets an idle instance this worker made for an earlier task
of the same stage (same component, parameters, limits and grants), or a new
one. The executor's `close` at the end of the task hands the instance back
(`Kept.close`) instead of closing it. The planner configures every stage it
builds, kept ones too, with the same parameters: an instance ends one task
as it would end a local run, and starts the next as configured.

Sources and sinks are never kept: they hold a partition's files and
connections. After a failed task every kept instance is closed for good
(`drop_all`): one may be left mid-call.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dataflare.model import PluginKind
from dataflare.pipeline.config import StageConfig
from dataflare.pipeline.planner import WasmLoader, stage_wasm_loader
from dataflare.plugins.kinds import AnyPlugin

__all__ = ["Kept", "drop_all", "idle_count", "kept_loader"]

_KEPT_KINDS = frozenset({PluginKind.FILTER, PluginKind.TRANSFORM, PluginKind.AGGREGATE})
_IDLE: dict[str, list[AnyPlugin]] = {}
"""This worker's idle instances, by `_key`."""


class Kept:
    """A kept instance lent to one task: every call goes to it, `close` gives it back."""

    def __init__(self, key: str, plugin: AnyPlugin) -> None:
        self._key = key
        self._plugin = plugin
        self._returned = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plugin, name)

    def close(self) -> None:
        """Hand the instance back for the worker's next task (once)."""
        if not self._returned:
            self._returned = True
            _IDLE.setdefault(self._key, []).append(self._plugin)


def _key(path: Path, kind: PluginKind, name: str | None, cfg: StageConfig) -> str:
    """What must match for an instance to be reused: component, stage, params, limits, grants."""
    params = json.dumps(dict(cfg.params), sort_keys=True)
    return "\n".join([str(path), kind.value, name or "", cfg.id, params, repr(cfg.limits),
                      repr(cfg.allow)])  # fmt: skip


def kept_loader(stages: Mapping[str, StageConfig]) -> WasmLoader:
    """A plan's WASM loader that lends kept processor instances (`stages`: configs by id)."""

    def load(path: Path, kind: PluginKind, name: str | None, stage: str) -> AnyPlugin:
        cfg = stages[stage]
        # one instance at a time: the planner pools them itself for `workers: N`
        fresh = stage_wasm_loader(replace(cfg, workers=1))
        if kind not in _KEPT_KINDS:
            return fresh(path, kind, name, stage)
        key = _key(path, kind, name, cfg)
        idle = _IDLE.get(key)
        plugin = idle.pop() if idle else fresh(path, kind, name, stage)
        return Kept(key, plugin)

    return load


def idle_count() -> int:
    """How many instances this worker keeps idle now."""
    return sum(len(plugins) for plugins in _IDLE.values())


def drop_all() -> None:
    """Close every idle instance for good (after a failed task)."""
    plugins = [p for idle in _IDLE.values() for p in idle]
    _IDLE.clear()
    for plugin in plugins:
        # what a failed task left: its failure is what gets reported, not this
        with contextlib.suppress(Exception):
            plugin.close()
