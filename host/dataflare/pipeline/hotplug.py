"""Hot plug: replacing a running stage's plugin between two batches, losing no record.

One `HotPlug` per run, owned by the executor. `request(stage, path)` (None:
the stage's current file again) returns a future of the `SwapOutcome`. The
swap is prepared off the hot path, on one worker thread: the component is
compiled (through the shared engine and compile cache, so a cached one is
fast), instantiated and configured with the stage's params; `describe` must
give the stage's kind and accept its params; then a probe batch (the last
`PROBE_RECORDS` records the stage saw) must go through the new plugin
without a trap or a failed call. Only then is the new plugin handed to the
executor, which calls `apply` between batches on its own thread: every batch
is processed whole by one version, so every record by exactly one. A pooled
stage (``workers: N``) gets a whole new pool, so every instance swaps at once.

A failed load, configure or probe keeps the running plugin: the outcome has
``ok=False`` and the reason, which is logged and kept for ``/status``.
Aggregates swap only to a plugin of the same name and major version, which
takes over the accumulator as it is (the probe folds onto a copy of it).
Sources and sinks do not swap: a source's read position and a sink's open
transaction belong to the instance that holds them.

A swap prepared but not applied when the run ends is refused, and its
plugin closed. The old plugin is closed on the worker thread after the swap.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pyarrow as pa

from dataflare.errors import DataFlareError, GuestTrap, PluginError
from dataflare.model import PluginInfo, PluginKind
from dataflare.pipeline.config import Problems, StageConfig
from dataflare.pipeline.planner import (
    AggregateStage,
    FilterStage,
    Plan,
    Stage,
    TransformStage,
    check_params,
    stage_wasm_loader,
)
from dataflare.pipeline.stage_calls import aggregate_call, filter_call, transform_call
from dataflare.plugins.kinds import Plugin

__all__ = ["PROBE_RECORDS", "HotPlug", "StageLoader", "SwapOutcome", "file_sha256"]

PROBE_RECORDS = 64
"""At most this many of a stage's last records make the probe batch."""

StageLoader = Callable[[StageConfig, Path], Plugin]
"""Opens an unconfigured plugin for a stage from a file (the default: the stage's WASM loader)."""

_log = logging.getLogger("dataflare.pipeline.hotplug")

_SWAPPABLE = (PluginKind.FILTER, PluginKind.TRANSFORM, PluginKind.AGGREGATE)


@dataclass(frozen=True, slots=True)
class SwapOutcome:
    """What became of one swap request."""

    stage: str
    ok: bool
    reason: str
    """Why the swap was refused; empty when it was applied."""
    path: str | None
    plugin: str | None = None
    """The new plugin as ``name version`` (None when it could not be described)."""
    sha256: str | None = None
    requested: float = 0.0
    """Wall-clock time (epoch seconds) of the request."""
    finished: float = 0.0
    """Wall-clock time the swap was applied or refused."""
    pause_ms: float | None = None
    """Milliseconds from the end of the last batch on the old plugin to the swap being in place."""

    def as_json(self) -> dict[str, Any]:
        """The outcome as ``/status`` shows it."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "path": self.path,
            "plugin": self.plugin,
            "sha256": self.sha256,
            "requested": self.requested,
            "finished": self.finished,
            "pause_ms": self.pause_ms,
        }


@dataclass(slots=True)
class _Running:
    """What a stage runs now, as ``/status`` shows it."""

    path: Path | None
    sha256: str | None


@dataclass(slots=True)
class _Prepared:
    plugin: Plugin
    info: PluginInfo
    path: Path
    sha256: str
    future: Future[SwapOutcome]
    requested: float


class _Refused(Exception):
    """Why a prepared plugin does not fit the stage."""

    def __init__(self, reason: str, plugin: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.plugin = plugin


def file_sha256(path: Path) -> str:
    """The hex sha256 of the file at `path`."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _default_loader(cfg: StageConfig, path: Path) -> Plugin:
    if cfg.plugin.wasm_path is None:
        raise _Refused("only WASM stages hot plug; this stage runs a native plugin")
    plugin: Plugin = stage_wasm_loader(cfg)(path, cfg.plugin.kind, cfg.plugin.name, cfg.id)
    return plugin


def _major(version: str) -> str:
    return version.split(".", 1)[0]


class HotPlug:
    """Swap requests of one run: prepared on a worker thread, applied by the executor."""

    def __init__(
        self,
        plan: Plan,
        *,
        load: StageLoader | None = None,
        accumulator: Callable[[str], bytes] | None = None,
    ) -> None:
        self._stages = {stage.id: stage for stage in plan.stages}
        self._base = plan.config.path.resolve().parent
        self._load = load or _default_loader
        self._accumulator = accumulator
        self._lock = threading.Lock()
        self._ready: dict[str, _Prepared] = {}
        self._open: set[Future[SwapOutcome]] = set()
        self._preparing: dict[str, int] = {}
        self._last: dict[str, SwapOutcome] = {}
        self._counts: dict[tuple[str, bool], int] = {}
        self._seen: dict[str, pa.RecordBatch] = {}
        self._batch_end = time.perf_counter()
        self._closed = False
        self._worker: ThreadPoolExecutor | None = None
        self._retired: list[tuple[Plugin, str]] = []
        """Plugins swapped out, to close off the executor's thread."""
        # sha256 on first ask: an 18 MB component takes a while to hash, and most runs never ask
        self._running = {
            stage.id: _Running(stage.config.plugin.wasm_path, None) for stage in plan.stages
        }

    # -- asked from any thread ------------------------------------------------

    def request(self, stage_id: str, path: Path | None = None) -> Future[SwapOutcome]:
        """Swap `stage_id`'s plugin for the one at `path` (None: its current file, reloaded).

        The future holds the outcome once the swap is applied or refused; it
        never raises. A relative `path` is taken from the pipeline file's folder.
        """
        future: Future[SwapOutcome] = Future()
        requested = time.time()
        stage = self._stages.get(stage_id)
        running = self._running.get(stage_id)
        if path is not None and not path.is_absolute():
            path = self._base / path
        target = path if path is not None else (running.path if running else None)
        shown = None if target is None else str(target)
        if stage is None:
            future.set_result(_refused(stage_id, f"no stage {stage_id!r}", shown, requested))
            return future
        if stage.kind not in _SWAPPABLE:
            reason = (
                f"a {stage.kind.value} stage does not hot plug: only filter, transform and "
                "aggregate stages do"
            )
            return self._done(future, _refused(stage_id, reason, shown, requested))
        with self._lock:
            if self._closed:
                future.set_result(_refused(stage_id, "the run has ended", shown, requested))
                return future
            self._open.add(future)
            self._preparing[stage_id] = self._preparing.get(stage_id, 0) + 1
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="dataflare-hotplug")
            self._worker.submit(self._prepare, stage, target, future, requested)
        return future

    def last_swap(self, stage_id: str) -> SwapOutcome | None:
        """The outcome of `stage_id`'s latest swap request that finished, if any."""
        return self._last.get(stage_id)

    def swaps(self) -> dict[tuple[str, bool], int]:
        """Finished swap requests by (stage, applied)."""
        with self._lock:
            return dict(self._counts)

    def running(self, stage_id: str) -> tuple[Path | None, str | None]:
        """The file `stage_id` runs now and its sha256 (None, None for native plugins)."""
        running = self._running[stage_id]
        if running.sha256 is None and running.path is not None:
            running.sha256 = _sha_or_none(running.path)
        return running.path, running.sha256

    def swapping(self, stage_id: str) -> bool:
        """True while a swap of `stage_id` is being prepared or waits for the next batch."""
        return bool(self._preparing.get(stage_id)) or stage_id in self._ready

    def ready(self, stage_id: str) -> bool:
        """True when a swap of `stage_id` is prepared and waits for the next batch."""
        return stage_id in self._ready

    # -- the executor's thread ------------------------------------------------

    def saw(self, stage_id: str, batch: pa.RecordBatch) -> None:
        """Note the batch `stage_id` is about to process: the next probe is made of it."""
        self._seen[stage_id] = batch

    def batch_done(self) -> None:
        """Note that nothing is in flight now: a batch went all the way through, or every
        source is idle. A swap pause is measured from the last such moment."""
        self._batch_end = time.perf_counter()

    def apply(self) -> list[str]:
        """Put every prepared plugin in place; returns the ids of the stages swapped.

        Called by the executor between batches, so no call of the old plugin
        is in flight. The caller must drop anything it derived from the old plugins.
        """
        if not self._ready:
            return []
        with self._lock:
            ready, self._ready = self._ready, {}
        for stage_id, prepared in ready.items():
            stage = self._stages[stage_id]
            old = stage.plugin
            _set_plugin(stage, prepared.plugin, prepared.info)
            self._running[stage_id] = _Running(prepared.path, prepared.sha256)
            pause = (time.perf_counter() - self._batch_end) * 1000
            outcome = SwapOutcome(
                stage_id,
                True,
                "",
                str(prepared.path),
                f"{prepared.info.name} {prepared.info.version}",
                prepared.sha256,
                prepared.requested,
                time.time(),
                pause,
            )
            _log.info(
                "swapped to %s (%s) after %.2f ms",
                outcome.plugin,
                prepared.path,
                pause,
                extra={"stage": stage_id},
            )
            self._finish(prepared.future, outcome)
            with self._lock:
                self._retired.append((old, stage_id))
                if self._worker is not None:
                    # closing can take a while (a pool's threads): not on the executor's thread
                    self._worker.submit(self._close_retired)
        return list(ready)

    def close(self) -> None:
        """Refuse what is not applied yet, wait for the worker and close what it prepared."""
        with self._lock:
            self._closed = True
            worker = self._worker
        if worker is not None:
            # queued requests are dropped (refused below), not compiled for nothing
            worker.shutdown(wait=True, cancel_futures=True)
        self._close_retired()
        with self._lock:
            ready, self._ready = self._ready, {}
            left = list(self._open)
        for stage_id, prepared in ready.items():
            _close_quietly(prepared.plugin, stage_id)
        for future in left:
            self._finish(future, None)

    def _close_retired(self) -> None:
        """Close the plugins swapped out so far."""
        with self._lock:
            retired, self._retired = self._retired, []
        for plugin, stage_id in retired:
            _close_quietly(plugin, stage_id)

    # -- the worker thread ----------------------------------------------------

    def _prepare(
        self,
        stage: Stage[Plugin],
        path: Path | None,
        future: Future[SwapOutcome],
        requested: float,
    ) -> None:
        try:
            plugin, info, sha = self._opened(stage, path)
        except _Refused as exc:
            with self._lock:
                self._preparing[stage.id] -= 1
            shown = None if path is None else str(path)
            self._refuse(future, stage.id, exc.reason, shown, requested, exc.plugin)
            return
        assert path is not None
        prepared = _Prepared(plugin, info, path, sha, future, requested)
        with self._lock:
            self._preparing[stage.id] -= 1  # in the same step as it becomes ready: never "idle"
            closed = self._closed
            superseded = None if closed else self._ready.get(stage.id)
            if not closed:
                self._ready[stage.id] = prepared
        if closed:
            _close_quietly(plugin, stage.id)
            self._finish(future, None)
        elif superseded is not None:
            _close_quietly(superseded.plugin, stage.id)
            reason = "superseded by a later request before it was applied"
            self._refuse(
                superseded.future, stage.id, reason, str(superseded.path), superseded.requested
            )

    def _opened(self, stage: Stage[Plugin], path: Path | None) -> tuple[Plugin, PluginInfo, str]:
        """The new plugin at `path`, checked, configured and probed; else `_Refused` (closed)."""
        if path is None:
            raise _Refused("only WASM stages hot plug; this stage runs a native plugin")
        plugin: Plugin | None = None
        try:
            sha = file_sha256(path)
            plugin = self._load(stage.config, path)
            info = self._check(stage, plugin)
            self._probe(stage, plugin)
        except _Refused:
            _close_quietly(plugin, stage.id)
            raise
        except (DataFlareError, OSError) as exc:
            _close_quietly(plugin, stage.id)
            raise _Refused(_why(exc)) from exc
        except Exception as exc:
            # A plugin's own bug (any exception from describe or configure) is a refusal too.
            _close_quietly(plugin, stage.id)
            raise _Refused(f"{type(exc).__name__}: {exc}") from exc
        return plugin, info, sha

    def _check(self, stage: Stage[Plugin], plugin: Plugin) -> PluginInfo:
        """`plugin` described, its params checked and configured; `_Refused` if it does not fit."""
        info = plugin.describe()
        named = f"{info.name} {info.version}"
        if info.kind is not stage.kind:
            raise _Refused(
                f"the new plugin {info.name!r} is a {info.kind.value} plugin; the stage is a "
                f"{stage.kind.value} stage",
                named,
            )
        if stage.kind is PluginKind.AGGREGATE:
            old = stage.info
            if info.name != old.name or _major(info.version) != _major(old.version):
                raise _Refused(
                    f"an aggregate swaps only to the same plugin with the same major version, "
                    f"since the new one takes over the accumulator: running {old.name} "
                    f"{old.version}, offered {info.name} {info.version}",
                    named,
                )
        problems = Problems("")
        if not check_params(stage.config, info, problems):
            raise _Refused("the stage's params do not fit: " + "; ".join(problems.items), named)
        try:
            plugin.configure(dict(stage.config.params))
        except PluginError as exc:
            raise _Refused(f"configure failed ({exc.kind}): {exc.message}", named) from exc
        except GuestTrap as exc:
            raise _Refused(f"configure trapped: {exc}", named) from exc
        return info

    def _probe(self, stage: Stage[Plugin], plugin: Plugin) -> None:
        """Run the stage's last records through `plugin`; `_Refused` on a trap or failed call."""
        seen = self._seen.get(stage.id)
        if seen is None or not seen.num_rows:
            return
        batch = seen.slice(max(0, seen.num_rows - PROBE_RECORDS))
        rows = batch.num_rows
        try:
            match stage:
                case FilterStage():
                    got = len(filter_call(cast(Any, plugin))(batch).keep)
                case TransformStage():
                    got = transform_call(cast(Any, plugin))(batch).batch.num_rows
                case AggregateStage():
                    acc = self._accumulator(stage.id) if self._accumulator else b""
                    aggregate_call(cast(Any, plugin))(acc, batch)
                    got = rows
                case _:
                    got = rows
        except GuestTrap as exc:
            raise _Refused(f"the probe of the last {rows} records trapped: {exc}") from exc
        except PluginError as exc:
            raise _Refused(
                f"the probe of the last {rows} records failed ({exc.kind}): {exc.message}"
            ) from exc
        if got != rows:
            raise _Refused(f"the probe of {rows} records returned {got} outcomes")

    # -- outcomes -------------------------------------------------------------

    def _refuse(
        self,
        future: Future[SwapOutcome],
        stage_id: str,
        reason: str,
        path: str | None,
        requested: float,
        plugin: str | None = None,
    ) -> None:
        _log.warning(
            "swap refused, the plugin running stays: %s", reason, extra={"stage": stage_id}
        )
        self._finish(future, _refused(stage_id, reason, path, requested, plugin))

    def _done(self, future: Future[SwapOutcome], outcome: SwapOutcome) -> Future[SwapOutcome]:
        with self._lock:
            self._open.add(future)
        self._finish(future, outcome)
        return future

    def _finish(self, future: Future[SwapOutcome], outcome: SwapOutcome | None) -> None:
        """Resolve `future` once (None: refused because the run ended)."""
        with self._lock:
            if future not in self._open:
                return
            self._open.discard(future)
            if outcome is None:
                outcome = SwapOutcome("", False, "the run ended before the swap was applied", None)
            if outcome.stage:
                self._last[outcome.stage] = outcome
                key = (outcome.stage, outcome.ok)
                self._counts[key] = self._counts.get(key, 0) + 1
        future.set_result(outcome)


def _refused(
    stage_id: str, reason: str, path: str | None, requested: float, plugin: str | None = None
) -> SwapOutcome:
    return SwapOutcome(stage_id, False, reason, path, plugin, None, requested, time.time())


def _why(exc: BaseException) -> str:
    if isinstance(exc, PluginError):
        return f"{exc.kind}: {exc.message}"
    if isinstance(exc, OSError):
        return f"cannot read the plugin file: {exc}"
    return str(exc)


def _sha_or_none(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return file_sha256(path)
    except OSError:
        return None


def _set_plugin(stage: Stage[Plugin], plugin: Plugin, info: PluginInfo) -> None:
    # `Stage` is covariant in its plugin type for reading; a swap writes one of the stage's
    # own kind (checked by `_check` against `describe`), which is what the planner does too.
    object.__setattr__(stage, "plugin", plugin)
    stage.info = info


def _close_quietly(plugin: Plugin | None, stage_id: str) -> None:
    if plugin is None:
        return
    try:
        plugin.close()
    except Exception as exc:  # the swap stands; a failing close is only worth a log line
        _log.warning("closing the replaced plugin failed: %s", exc, extra={"stage": stage_id})
