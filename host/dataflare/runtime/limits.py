"""Per-instance resource limits: memory, fuel per call, wall-clock per call.

Fuel and epoch checks are compiled into the code, so they need an engine
made with them (`EngineConfig.fuel` / `.epoch`); asking for a limit the
engine cannot enforce is an error, not a silent no-op. One daemon thread
advances the epoch of every engine that has epochs enabled.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import wasmtime

from dataflare.runtime.engine import EngineConfig

__all__ = [
    "NO_LIMITS",
    "TICK_SECONDS",
    "UNLIMITED",
    "Limits",
    "arm_call",
    "arm_instance",
    "ensure_ticking",
]

TICK_SECONDS = 0.01
UNLIMITED = 1 << 62
"""A budget nothing reaches: used when the engine counts but no limit was asked for."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits applied to each instance; None means unlimited.

    `memory_bytes` caps linear memory growth (store limiter); `fuel_per_call`
    caps instructions per guest call; `timeout` caps wall-clock seconds per
    call, to within `TICK_SECONDS`.
    """

    memory_bytes: int | None = None
    fuel_per_call: int | None = None
    timeout: float | None = None

    def check(self, config: EngineConfig) -> None:
        """Raise ValueError if `config` cannot enforce these limits."""
        if self.fuel_per_call is not None and not config.fuel:
            raise ValueError("fuel_per_call needs an engine with EngineConfig(fuel=True)")
        if self.timeout is not None and not config.epoch:
            raise ValueError("timeout needs an engine with EngineConfig(epoch=True)")
        for name in ("memory_bytes", "fuel_per_call", "timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")


NO_LIMITS = Limits()


def arm_instance(store: wasmtime.Store, limits: Limits, config: EngineConfig) -> None:
    """Set store-wide limits and a budget for instantiation itself."""
    if limits.memory_bytes is not None:
        store.set_limits(memory_size=limits.memory_bytes)
    arm_call(store, limits, config)
    if config.epoch:
        ensure_ticking(store.engine)


def arm_call(store: wasmtime.Store, limits: Limits, config: EngineConfig) -> None:
    """Refill fuel and reset the deadline before one guest call.

    Both default to zero in a fresh store (instant trap), so an engine that
    counts always gets a budget, unlimited if none was asked for.
    """
    # Both are u64 in wasmtime, which wraps a bigger value silently (2**64 + 5
    # fuel is 5): a budget scaled by a batch's length must saturate instead.
    if config.fuel:
        store.set_fuel(min(limits.fuel_per_call or UNLIMITED, UNLIMITED))
    if config.epoch:
        ticks = UNLIMITED if limits.timeout is None else math.ceil(limits.timeout / TICK_SECONDS)
        store.set_epoch_deadline(min(ticks, UNLIMITED))


class _Ticker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: list[wasmtime.Engine] = []
        self._thread: threading.Thread | None = None

    def add(self, engine: wasmtime.Engine) -> None:
        with self._lock:
            if not any(known is engine for known in self._engines):
                self._engines.append(engine)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="dataflare-epoch-ticker", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            with self._lock:
                engines = list(self._engines)
            for engine in engines:
                engine.increment_epoch()


_TICKER = _Ticker()


def ensure_ticking(engine: wasmtime.Engine) -> None:
    """Have the shared epoch thread advance `engine` (starting the thread if needed)."""
    _TICKER.add(engine)
