"""Fresh, budgeted instances of the component under test, and what their calls return.

Every check talks to the plugin through a `Probe`: one sandboxed instance
(`dataflare.runtime.PluginInstance` with the generated world class) whose
calls come back as plain outcomes (`Returned`, `Refused`, `Trapped`) instead
of exceptions, with the fuel each call used. The engine counts fuel and
epochs, so a runaway call ends as a `Trapped` with cause ``fuel`` or
``timeout`` instead of hanging the check. A probe that trapped stays dead:
later calls return the same trap, so a check sees one instance's story.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import wasmtime
from wasmtime.component import Instance

from dataflare._wit.types import Record
from dataflare._wit_v0_1.types import Record as RecordV01
from dataflare.abi import rt
from dataflare.conformance._results import Budget
from dataflare.errors import ComponentLoadError, GuestTrap, LimitExceeded
from dataflare.model import PluginKind
from dataflare.runtime import EngineConfig, Limits, LoadedComponent, PluginInstance
from dataflare.runtime.engine import SANDBOX_CONFIG
from dataflare.runtime.identify import parse_version
from dataflare.runtime.sandbox import plugin_logger
from dataflare.runtime.worlds import world_class

__all__ = [
    "CHECK_ENGINE",
    "Malformed",
    "Outcome",
    "Probe",
    "Refused",
    "Returned",
    "Subject",
    "Trapped",
    "classify_trap",
    "describe_outcome",
    "error_kind",
]

CHECK_ENGINE: EngineConfig = SANDBOX_CONFIG
"""Checks always count fuel and time so a runaway guest cannot hang them; a pipeline's
default engine, so the component `check` compiled is the one `run` finds in the cache."""

_LOGGER_NAME = "conformance"
_KEPT_LOG_LINES = 3
_ERROR_KINDS = {
    "PluginErrorProcessing": "processing",
    "PluginErrorConfiguration": "configuration",
    "PluginErrorIo": "io",
    "PluginErrorSerialization": "serialization",
}
"""Case names of `plugin-error`, by generated class name: every version's bindings share them."""


@dataclass(frozen=True, slots=True)
class Returned:
    """The call returned normally (for `result` returns: the `ok` case)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Refused:
    """The call returned a `plugin-error` of `kind`."""

    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class Trapped:
    """The guest trapped: `cause` is fuel, timeout, instantiate or trap."""

    cause: str
    message: str
    fuel: int = 0


@dataclass(frozen=True, slots=True)
class Malformed:
    """The call returned, but its columnar result breaks a rule of the WIT (see `problem`)."""

    export: str
    problem: str


Outcome = Returned | Refused | Trapped | Malformed


def error_kind(err: object) -> str:
    """The case name of a generated `plugin-error` value, of any version's bindings."""
    return _ERROR_KINDS[type(err).__name__]


def _outcome(raw: Any) -> Returned | Refused:
    if isinstance(raw, rt.Err):
        return Refused(error_kind(raw.value), raw.value.value)
    if isinstance(raw, rt.Ok):
        return Returned(raw.value)
    return Returned(raw)


def describe_outcome(outcome: Outcome) -> str:
    """An outcome for people."""
    if isinstance(outcome, Refused):
        return f"{outcome.kind} error ({outcome.message!r})"
    if isinstance(outcome, Trapped):
        return f"trap: {outcome.message}"
    if isinstance(outcome, Malformed):
        return f"malformed {outcome.export} result: {outcome.problem}"
    return f"ok {_short(outcome.value)}"


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def classify_trap(exc: BaseException, budget: int, fuel: int) -> Trapped:
    """A trap's cause from the limit that stopped the call (`LimitExceeded.limit`), for people.

    Any other trap is reported with wasmtime's own reason line.
    """
    if isinstance(exc, LimitExceeded) and exc.limit == "fuel":
        return Trapped("fuel", f"used up its fuel budget of {budget:,} for this call", fuel)
    if isinstance(exc, LimitExceeded) and exc.limit == "timeout":
        return Trapped("timeout", "ran past the wall-clock limit for one call", fuel)
    return Trapped("trap", _reason(exc), fuel)


def _reason(exc: BaseException) -> str:
    """wasmtime's one-line reason for a trap (its "wasm trap: ..." line), for the report."""
    texts = []
    seen: BaseException | None = exc
    while seen is not None:
        texts.append(str(seen))
        seen = seen.__cause__
    lines = [line.strip() for line in "\n".join(texts).splitlines() if line.strip()]
    if "Caused by:" in lines:
        lines = lines[lines.index("Caused by:") + 1 :]
    reason = next((line for line in lines if "wasm trap" in line), lines[-1] if lines else "")
    reason = reason.removeprefix("0: ").strip()
    return reason or type(exc).__name__


class _Tail(logging.Handler):
    """Keeps the plugin's last few log lines to explain a trap."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: collections.deque[str] = collections.deque(maxlen=_KEPT_LOG_LINES)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage()[:300])


@dataclass
class Subject:
    """The component under test: loaded for checks, with its budget and config."""

    loaded: LoadedComponent
    budget: Budget
    config: list[tuple[str, str]] = field(default_factory=list)
    _tail: _Tail = field(default_factory=_Tail)

    def __post_init__(self) -> None:
        logger = plugin_logger(_LOGGER_NAME)
        # Checks feed hostile inputs on purpose; the guest's complaints explain
        # traps in the report instead of flooding the caller's logs.
        logger.propagate = False
        if not any(isinstance(h, _Tail) for h in logger.handlers):
            logger.addHandler(self._tail)
        else:
            self._tail = next(h for h in logger.handlers if isinstance(h, _Tail))

    @property
    def kind(self) -> PluginKind:
        """The world the component targets."""
        return self.loaded.kind

    @property
    def world_version(self) -> str:
        """The version of the host's world the component is checked through (e.g. 0.2.0)."""
        return self.loaded.world.version

    @property
    def columnar(self) -> bool:
        """True from world 0.2 on: batch exports take and return columnar batches."""
        return parse_version(self.world_version) >= (0, 2, 0)

    def wire(self, record: Record) -> Any:
        """`record` as the world's bindings take it (0.1 calls need the 0.1 `Record` class)."""
        if self.columnar:
            return record
        return RecordV01(record.key, record.value, record.timestamp, record.metadata)

    def world_class(self) -> Callable[[wasmtime.Store, Instance], Any]:
        """The generated class for the component's world (e.g. `Filter`)."""
        return world_class(self.kind, self.loaded.version)

    def probe(
        self,
        *,
        configure: bool = True,
        connect: bool = False,
        memory_bytes: int | None = None,
        config: list[tuple[str, str]] | None = None,
    ) -> Probe:
        """A fresh instance, configured with the subject's config unless told not to."""
        probe = Probe(self, memory_bytes or self.budget.memory_bytes)
        if configure:
            probe.call("configure", config if config is not None else self.config)
        if connect and self.kind in (PluginKind.SOURCE, PluginKind.SINK):
            probe.call("connect")
        return probe

    def recent_log(self) -> list[str]:
        """The plugin's last few log lines (stdout, stderr and `log`)."""
        return list(self._tail.lines)


class Probe:
    """One sandboxed instance; every call returns an `Outcome` and records its fuel."""

    def __init__(self, subject: Subject, memory_bytes: int) -> None:
        self.subject = subject
        self.fuel = 0
        self.trap: Trapped | None = None
        self._store: wasmtime.Store | None = None
        self._cls = subject.world_class()
        self._instance: PluginInstance[Any] | None = None
        limits = Limits(memory_bytes=memory_bytes, timeout=subject.budget.timeout)
        subject._tail.lines.clear()
        try:
            self._instance = PluginInstance(
                subject.loaded, self._factory, name=_LOGGER_NAME, limits=limits
            )
        except (ComponentLoadError, GuestTrap) as exc:
            self.trap = Trapped(
                "instantiate", f"cannot instantiate: {classify_trap(exc, 0, 0).message}"
            )

    def _factory(self, store: wasmtime.Store, instance: Instance) -> Any:
        self._store = store
        return self._cls(store, instance)

    def call(self, export: str, *args: Any, size: int = 0) -> Outcome:
        """Call `export` (kebab-case) with typed `args` carrying `size` bytes of records."""
        if self.trap is not None or self._instance is None:
            assert self.trap is not None
            return self.trap
        budget = self.subject.budget.fuel_for(size)
        method = export.replace("-", "_")
        used = [0]

        def run(world: Any) -> Any:
            store = self._store
            assert store is not None
            store.set_fuel(budget)
            try:
                return getattr(world, method)(*args)
            finally:
                used[0] = budget - store.get_fuel()

        try:
            raw = self._instance.call(run)
        except (GuestTrap, wasmtime.WasmtimeError) as exc:
            self.fuel = used[0]
            trap = classify_trap(exc, budget, used[0])
            log = self.subject.recent_log()
            if log and trap.cause == "trap":
                trap = Trapped(
                    trap.cause, f"{trap.message} (plugin log: {' | '.join(log)})", trap.fuel
                )
            self.trap = trap
            self.close()
            return trap
        self.fuel = used[0]
        return _outcome(raw)

    def close(self) -> None:
        """Release the instance."""
        if self._instance is not None:
            self._instance.close()
