"""The validated form of a pipeline file, and the collector of located problems."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dataflare.errors import ConfigFileError
from dataflare.model import PluginKind
from dataflare.pipeline._yaml import Mark
from dataflare.pipeline.stage_limits import DEFAULT_LIMITS, StageLimits
from dataflare.runtime.capabilities import DENY_ALL, Capabilities

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ENTRY_KEYS",
    "ID_RE",
    "ON_ERROR",
    "PLUGIN_KEYS",
    "RESERVED",
    "SECTION_KINDS",
    "TOP_KEYS",
    "OnError",
    "PipelineConfig",
    "PluginRef",
    "Problems",
    "Section",
    "StageConfig",
]

OnError = Literal["fail", "skip", "dead_letter"]
Section = Literal["sources", "processors", "sinks"]

DEFAULT_BATCH_SIZE = 500
ON_ERROR: tuple[OnError, ...] = ("fail", "skip", "dead_letter")
TOP_KEYS = ("name", "batch_size", "state", "sources", "processors", "sinks")
ENTRY_KEYS = (
    "id",
    "type",
    "config",
    "on_error",
    "dead_letter",
    "limits",
    "allow",
    "workers",
    "reload",
)
RESERVED: dict[str, str] = {}
"""Entry keys accepted by the grammar but not supported yet (none now)."""
PLUGIN_KEYS = (
    "plugin_type",
    "plugin_name",
    "plugin_source",
    "plugin_path",
    "plugin_module",
    "params",
    "connection",
)
SECTION_KINDS: dict[Section, tuple[PluginKind, ...]] = {
    "sources": (PluginKind.SOURCE,),
    "processors": (PluginKind.FILTER, PluginKind.TRANSFORM, PluginKind.AGGREGATE),
    "sinks": (PluginKind.SINK,),
}
ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class PluginRef:
    """Which plugin a stage runs: a native one by name, or a WASM component by path."""

    kind: PluginKind
    name: str | None
    wasm_path: Path | None = None
    module: Path | None = None
    """The `.py` file (`plugin_module:`) whose registrations hold `name`; None: the registry."""

    @property
    def label(self) -> str:
        """How the plan shows it: ``native:json_filter`` or ``wasm:/abs/path.wasm``."""
        return f"wasm:{self.wasm_path}" if self.wasm_path is not None else f"native:{self.name}"


@dataclass(frozen=True, slots=True)
class StageConfig:
    """One validated entry of the file."""

    id: str
    section: Section
    type: str
    plugin: PluginRef
    params: dict[str, str]
    on_error: OnError
    dead_letter: str | None
    mark: Mark
    ref_mark: Mark
    param_marks: dict[str, Mark] = field(default_factory=dict)
    limits: StageLimits = DEFAULT_LIMITS
    """Enforced on WASM stages only (native plugins are trusted host code)."""
    allow: Capabilities = DENY_ALL
    """What a WASM stage may reach; nothing by default."""
    workers: int = 1
    """Pooled instances of a WASM filter/transform stage, run on threads (1: no pool)."""
    reload: bool = False
    """`reload: watch`: hot plug the WASM processor again when its `plugin_path` changes."""

    @property
    def where(self) -> str:
        """The entry as errors name it."""
        return f"{self.section} entry {self.id!r}"


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """A validated pipeline file."""

    path: Path
    name: str
    batch_size: int
    state_path: Path
    sources: tuple[StageConfig, ...]
    processors: tuple[StageConfig, ...]
    sinks: tuple[StageConfig, ...]

    @property
    def stages(self) -> tuple[StageConfig, ...]:
        """Every stage in file order: sources, processors, sinks."""
        return self.sources + self.processors + self.sinks

    @property
    def dead_letter_ids(self) -> frozenset[str]:
        """Ids of the sinks that receive dead letters only."""
        return frozenset(s.dead_letter for s in self.stages if s.dead_letter is not None)


class Problems:
    """Collects located problems; `raise_if_any` turns them into one `ConfigFileError`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, mark: Mark, where: str, message: str) -> None:
        """Record one problem at `mark` in entry `where`."""
        self.items.append(f"{mark}: {where}: {message}")

    def raise_if_any(self) -> None:
        """Raise `ConfigFileError` listing every problem, if there are any."""
        if self.items:
            raise ConfigFileError(self.path, list(self.items))
