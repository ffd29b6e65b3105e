"""A running plugin: one store, one instance, one world object, replaced after a trap.

Threading: a wasmtime `Store` must never be used by two threads at once
(wasmtime-py does not check; the process may abort). `PluginInstance.call`
holds a lock for the whole guest call, so one `PluginInstance` may be shared
between threads but serves one call at a time; use one instance per thread
for parallelism. Do not call back into the same instance from a host
callback (it would deadlock).

The world object handed to `call`'s function belongs to the current store
only: keep no reference to it (or its functions) after `call` returns, or a
later call could reach a discarded store.

`call` runs the guest on the instance's `GuestThread` and waits at most the
time limit plus `GRACE_SECONDS`: a guest blocked in a WASI call (a sleep, a
poll) is out of the epoch deadline's reach, so it is abandoned with its
store instead (see `dataflare.runtime.guestcall`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Generic, TypeVar

import wasmtime
from wasmtime.component import Func, Instance

from dataflare.abi.traps import TrapCode, trap_code
from dataflare.errors import ComponentLoadError, GuestTrap, LimitExceeded, PluginError
from dataflare.runtime.capabilities import DENY_ALL, Capabilities
from dataflare.runtime.guestcall import GRACE_SECONDS, CallAbandoned, GuestThread
from dataflare.runtime.limits import NO_LIMITS, Limits, arm_call, arm_instance
from dataflare.runtime.loader import LoadedComponent
from dataflare.runtime.sandbox import GuestOutput, PluginLog, build_linker, new_store, sandbox_wasi
from dataflare.runtime.worlds import world_class

__all__ = ["PluginInstance", "RawExports", "WorldFactory", "open_instance"]

W = TypeVar("W")
T = TypeVar("T")

WorldFactory = Callable[[wasmtime.Store, Instance], W]
"""Builds the world object (e.g. generated `Filter(store, instance)`) for a fresh instance."""


class RawExports:
    """Untyped access to a component's top-level exports by kebab-case name."""

    def __init__(self, store: wasmtime.Store, instance: Instance) -> None:
        self._store = store
        self._instance = instance
        self._funcs: dict[str, Func] = {}

    def __call__(self, name: str, *args: Any) -> Any:
        """Call export `name` with wasmtime-py's dynamic value conversion."""
        func = self._funcs.get(name)
        if func is None:
            found = self._instance.get_func(self._store, name)
            if found is None:
                raise LookupError(f"the component has no exported function {name!r}")
            func = self._funcs[name] = found
        return func(self._store, *args)


@dataclass(slots=True)
class _Live(Generic[W]):
    store: wasmtime.Store
    world: W


@dataclass(slots=True)
class _Slot(Generic[W]):
    """The live instance one call works on; its guest thread's alone once abandoned."""

    live: _Live[W] | None

    def release(self) -> None:
        if self.live is not None:
            self.live.store.close()
            self.live = None


class PluginInstance(Generic[W]):
    """One sandboxed instance of a loaded component, re-created after each trap.

    `name` picks the logger (``dataflare.plugin.<name>``, default: the file
    stem) and `stage` tags every line. `limits` apply per instance and per
    call; the engine config of `loaded` must enable fuel/epoch for them.
    """

    def __init__(
        self,
        loaded: LoadedComponent,
        world: WorldFactory[W],
        *,
        name: str | None = None,
        stage: str | None = None,
        limits: Limits = NO_LIMITS,
        caps: Capabilities | None = None,
    ) -> None:
        limits.check(loaded.engine_config)
        self.loaded = loaded
        self.name = name or loaded.path.stem
        self.limits = limits
        # None keeps the runtime's historic default: no grants, output logged.
        self.caps = caps if caps is not None else DENY_ALL
        allowed = caps is None or caps.stdout
        self.traps = 0
        self.instantiations = 0
        self._factory = world
        self._lock = threading.Lock()
        self._thread = GuestThread(self.name)
        self._log = PluginLog(self.name, stage)
        self._stdout = GuestOutput(self._log, "stdout", logging.INFO, allowed=allowed)
        self._stderr = GuestOutput(self._log, "stderr", logging.WARNING, allowed=allowed)
        self._linker = build_linker(loaded.engine, loaded.kind, self._log, loaded.version)
        self._live: _Live[W] | None = None
        self._armed = limits
        self._closed = False
        with self._lock:
            self._live = self._instantiate()

    def call(self, fn: Callable[[W], T], *, fuel: int | None = None) -> T:
        """Run `fn(world)` against a live instance, holding the store lock.

        `fuel` replaces the per-call fuel budget for this call (e.g. scaled to
        a batch's length); it needs an engine with fuel.

        A `PluginError` passes through and the instance lives on. A trap, or
        any other failure inside the call, discards the instance (the next
        call gets a fresh one) and is raised as `GuestTrap`, or re-raised as
        is when it is not a wasmtime error.
        """
        with self._lock:
            if self._closed:
                raise ValueError(f"plugin instance {self.name!r} is closed")
            limits = self.limits
            if fuel is not None and self.loaded.engine_config.fuel:
                limits = replace(limits, fuel_per_call=fuel)
            self._armed = limits
            slot: _Slot[W] = _Slot(self._live)
            self._live = None  # back below, unless the call is abandoned

            def job() -> T:
                if slot.live is None:
                    slot.live = self._instantiate()
                arm_call(slot.live.store, limits, self.loaded.engine_config)
                return fn(slot.live.world)

            wait = None if limits.timeout is None else limits.timeout + GRACE_SECONDS
            try:
                return self._thread.run(job, timeout=wait, on_abandon=slot.release)
            except CallAbandoned as exc:
                self.traps += 1
                raise self._blocked(exc) from None
            except (PluginError, ComponentLoadError):
                raise
            except GuestTrap as exc:
                # From generated bindings: restate it in the same words as below.
                self._discard(slot)
                cause = exc.__cause__
                if isinstance(cause, wasmtime.WasmtimeError | wasmtime.Trap):
                    raise self._trap(cause) from cause
                raise
            except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
                self._discard(slot)
                raise self._trap(exc) from exc
            except BaseException:
                # A host-side failure mid-call can leave the guest half-way
                # through; only a fresh instance is known to be sound.
                self._discard(slot)
                raise
            finally:
                if not self._thread.abandoned and self._live is None and slot.live is not None:
                    self._live = slot.live
                self._stdout.flush()
                self._stderr.flush()
                self._log.flush()

    @property
    def closed(self) -> bool:
        """True after `close`."""
        return self._closed

    def close(self) -> None:
        """Drop the store and instance; later calls raise. Safe to call twice."""
        with self._lock:
            self._closed = True
            self._drop_store()
            self._thread.close()

    def __enter__(self) -> PluginInstance[W]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _instantiate(self) -> _Live[W]:
        """A fresh store, instance and world object; the store is closed on any failure.

        The factory may call into the guest (e.g. to replay `configure` after
        a trap), so its failures are handled like those of a call.
        """
        store = new_store(self.loaded.engine, sandbox_wasi(self._stdout, self._stderr, self.caps))
        try:
            arm_instance(store, self.limits, self.loaded.engine_config)
            try:
                instance = self._linker.instantiate(store, self.loaded.component)
            except wasmtime.WasmtimeError as exc:
                world = self.loaded.world
                raise ComponentLoadError(
                    f"{self.loaded.path}: cannot instantiate as a {self.loaded.kind.value}"
                    f" plugin (world {world.package}/{world.name}@{world.version}):"
                    f" {self._reason(exc)}"
                ) from exc
            live = _Live(store, self._factory(store, instance))
        except BaseException:
            store.close()
            raise
        self.instantiations += 1
        return live

    def _discard(self, slot: _Slot[W]) -> None:
        """Count a failed call and close its store, unless its guest thread now owns it."""
        self.traps += 1
        if not self._thread.abandoned:
            slot.release()

    def _drop_store(self) -> None:
        if self._live is not None:
            self._live.store.close()
            self._live = None

    def _blocked(self, exc: CallAbandoned) -> LimitExceeded:
        limit = self._armed.timeout
        return LimitExceeded(
            f"plugin {self.name!r} trapped: blocked outside guest code, in a WASI call"
            f" (e.g. a sleep or poll) or the host, for more than {exc.waited:.1f}s"
            f" (time limit {limit}s per call, which interrupts only guest code);"
            " the call was abandoned and its instance discarded",
            limit="timeout",
            value=limit,
        )

    def _trap(self, exc: Exception) -> GuestTrap:
        code = trap_code(exc)
        reason = self._reason(exc, code)
        message = f"plugin {self.name!r} trapped: {reason}"
        limits = self._armed
        if code is TrapCode.OUT_OF_FUEL:
            return LimitExceeded(message, limit="fuel", value=limits.fuel_per_call)
        if code is TrapCode.INTERRUPT and limits.timeout is not None:
            return LimitExceeded(message, limit="timeout", value=limits.timeout)
        # wasmtime has no code for these: a refused allocation is the guest's
        # own abort, and the copy cap is an error, not a trap
        if limits.memory_bytes is not None and (
            self._stdout.saw_oom or self._stderr.saw_oom or _looks_like_oom(reason)
        ):
            message += (
                f" (memory limit {limits.memory_bytes} bytes: the guest's allocation was refused)"
            )
            return LimitExceeded(message, limit="memory", value=limits.memory_bytes)
        if "too much data is being copied" in reason:
            message += " (wasmtime refuses to copy that much between host and guest in one call)"
            return LimitExceeded(message, limit="copy", value=None)
        return GuestTrap(message)

    def _reason(self, exc: Exception, code: TrapCode | None = None) -> str:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        if "Caused by:" in lines:
            lines = lines[lines.index("Caused by:") + 1 :]
        reason = "; ".join(lines[:3]) if lines else type(exc).__name__
        limits = self._armed
        if code is TrapCode.OUT_OF_FUEL:
            reason += f" (fuel limit {limits.fuel_per_call} per call)"
        elif code is TrapCode.INTERRUPT and limits.timeout is not None:
            reason += f" (time limit {limits.timeout}s per call)"
        return reason


def _looks_like_oom(reason: str) -> bool:
    """Whether a trap reads like a failed allocation (wasmtime says nothing more)."""
    text = reason.lower()
    return "out of memory" in text or "memory allocation" in text


def open_instance(
    loaded: LoadedComponent,
    *,
    name: str | None = None,
    stage: str | None = None,
    limits: Limits = NO_LIMITS,
    caps: Capabilities | None = None,
) -> PluginInstance[Any]:
    """An instance whose world object is the generated class for `loaded.kind`.

    For a 0.2 filter that is `dataflare._wit.filter.Filter` (0.1:
    `dataflare._wit_v0_1.filter.Filter`); callers that
    know the kind statically get a precise type from `PluginInstance(loaded,
    Filter)` instead.
    """
    factory = world_class(loaded.kind, loaded.version)
    return PluginInstance(loaded, factory, name=name, stage=stage, limits=limits, caps=caps)
