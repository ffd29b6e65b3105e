"""Shared wasmtime engines, one per configuration that changes compiled code.

Compiled components are only valid for the engine configuration that made
them, so `fingerprint` (wasmtime version + CPU + config) is part of every
compile-cache key.
"""

from __future__ import annotations

import platform
import threading
from dataclasses import dataclass
from importlib.metadata import version
from typing import Literal

import wasmtime

__all__ = [
    "DEFAULT_CONFIG",
    "SANDBOX_CONFIG",
    "EngineConfig",
    "OptLevel",
    "fingerprint",
    "get_engine",
    "wasmtime_version",
]

OptLevel = Literal["none", "speed", "speed_and_size"]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Engine settings that change the machine code wasmtime generates.

    `fuel` enables per-call instruction budgets and `epoch` enables wall-clock
    deadlines (see `dataflare.runtime.limits`); both make guest code about
    1.4x slower, so they are off unless asked for.
    """

    fuel: bool = False
    epoch: bool = False
    opt_level: OptLevel = "speed"


DEFAULT_CONFIG = EngineConfig()
"""No fuel, no epochs: the fastest code, for trusted plugins."""

SANDBOX_CONFIG = EngineConfig(fuel=True, epoch=True)
"""What a pipeline stage runs on by default, and what `inspect`, `test` and `check` use too.

The compile cache is keyed by the config, so sharing this one means a new
component compiles once for all of them; a command that wants no limits
gets unlimited fuel and deadlines on its stores (`dataflare.runtime.limits`).
"""

_ENGINES: dict[EngineConfig, wasmtime.Engine] = {}
_LOCK = threading.Lock()


def wasmtime_version() -> str:
    """The installed wasmtime-py version (it pins the native library)."""
    return version("wasmtime")


def fingerprint(config: EngineConfig) -> str:
    """A file-name-safe string identifying code compiled under `config`."""
    return (
        f"wasmtime-{wasmtime_version()}-{platform.machine()}"
        f"-fuel{int(config.fuel)}-epoch{int(config.epoch)}-opt_{config.opt_level}"
    )


def get_engine(config: EngineConfig = DEFAULT_CONFIG) -> wasmtime.Engine:
    """The process-wide engine for `config`, created on first use.

    Engines are thread-safe and expensive to keep many of; components and
    stores must come from the same engine, so everything shares these.
    """
    with _LOCK:
        engine = _ENGINES.get(config)
        if engine is None:
            cfg = wasmtime.Config()
            cfg.consume_fuel = config.fuel
            cfg.epoch_interruption = config.epoch
            cfg.cranelift_opt_level = config.opt_level
            engine = _ENGINES[config] = wasmtime.Engine(cfg)
        return engine
