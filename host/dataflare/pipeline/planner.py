"""From a validated file to a plan: every plugin found, instantiated and configured.

Building the plan is the second half of validation: it looks up native
plugins (an unknown name lists the available ones), loads WASM components,
checks parameters against what each plugin declares and calls `configure`.
Each stage comes out typed by its kind (`SourceStage`, `FilterStage`, ...),
after checking that its plugin has every method of that kind's protocol, so
the executor calls plugins without casting.
Every problem is collected with its file position; if there is any, every
plugin built so far is closed and one `ConfigFileError` lists them all.
Nothing connects to anything here: that is the executor's job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeAlias, TypeVar, cast

from dataflare.errors import ConfigurationError, DataFlareError, PluginError
from dataflare.model import PluginInfo, PluginKind
from dataflare.pipeline.config import PipelineConfig, Problems, StageConfig, parse_config
from dataflare.plugins import registry
from dataflare.plugins.kinds import (
    AggregatePlugin,
    AnyPlugin,
    FilterPlugin,
    FoldingPlugin,
    Plugin,
    SinkPlugin,
    SourcePlugin,
    TransformPlugin,
)
from dataflare.plugins.plugin_file import load_plugin_file
from dataflare.runtime.pool import pooled_loader

__all__ = [
    "AggregateStage",
    "FilterStage",
    "Plan",
    "Processor",
    "SinkStage",
    "SourceStage",
    "Stage",
    "TransformStage",
    "WasmLoader",
    "build_plan",
    "check_params",
    "load_plan",
    "stage_wasm_loader",
]

WasmLoader = Callable[[Path, PluginKind, str | None, str], AnyPlugin]
"""Loads a component: (path, kind, plugin name or None, stage id) -> plugin."""

_SECRET_WORDS = ("password", "secret", "token", "dsn")


# Covariant so that `Plan.stages` can list every kind as `Stage[Plugin]`; only
# building a plan sets `plugin`, always to a plugin of the stage's own kind.
P = TypeVar("P", bound=Plugin, covariant=True)


@dataclass(slots=True)
class Stage(Generic[P]):
    """One stage of the plan: its configuration and its configured plugin."""

    config: StageConfig
    plugin: P
    info: PluginInfo

    @property
    def id(self) -> str:
        """The stage id from the file."""
        return self.config.id

    @property
    def kind(self) -> PluginKind:
        """The plugin kind."""
        return self.config.plugin.kind


class SourceStage(Stage[SourcePlugin]):
    """A source stage."""

    __slots__ = ()


class FilterStage(Stage[FilterPlugin]):
    """A filter stage."""

    __slots__ = ()


class TransformStage(Stage[TransformPlugin]):
    """A transform stage."""

    __slots__ = ()


class AggregateStage(Stage[AggregatePlugin]):
    """An aggregate stage."""

    __slots__ = ()


class SinkStage(Stage[SinkPlugin]):
    """A sink stage, main or dead-letter."""

    __slots__ = ()


Processor: TypeAlias = FilterStage | TransformStage | AggregateStage
"""A stage between sources and sinks; its class says which of the three it is."""

_AnyStage: TypeAlias = SourceStage | Processor | SinkStage


@dataclass(slots=True)
class Plan:
    """Configured stages, ready to run; `close` releases every plugin."""

    config: PipelineConfig
    sources: list[SourceStage]
    processors: list[Processor]
    sinks: list[SinkStage]
    dead_letters: dict[str, SinkStage] = field(default_factory=dict)

    @property
    def stages(self) -> list[Stage[Plugin]]:
        """Every stage: sources, processors, main sinks, dead-letter sinks."""
        return [*self.sources, *self.processors, *self.sinks, *self.dead_letters.values()]

    def close(self) -> list[str]:
        """Close every plugin (even after failures); returns what went wrong."""
        return _close_all(self.stages)

    def describe(self) -> str:
        """The plan as text, for ``dataflare run --dry-run``."""
        cfg = self.config
        lines = [
            f"pipeline {cfg.name!r} ({cfg.path})",
            f"  batch size {cfg.batch_size}; checkpoints in {cfg.state_path}",
        ]
        groups = (
            ("sources", self.sources),
            ("processors, in order", self.processors),
            ("sinks (each gets every surviving record)", self.sinks),
            ("dead-letter sinks", list(self.dead_letters.values())),
        )
        for title, stages in groups:
            if not stages:
                continue
            lines.append(f"  {title}:")
            for n, stage in enumerate(stages, 1):
                lines.append(f"    {n}. {_stage_line(stage)}")
                if stage.config.params:
                    shown = ", ".join(f"{k}={_shown(k, v)}" for k, v in stage.config.params.items())
                    lines.append(f"       params: {shown}")
        return "\n".join(lines)


def _stage_line(stage: Stage[Plugin]) -> str:
    cfg = stage.config
    text = (
        f"{cfg.id}: {stage.kind.value} {cfg.plugin.label} ({stage.info.name} {stage.info.version})"
    )
    if cfg.on_error == "dead_letter":
        text += f", on_error=dead_letter -> {cfg.dead_letter}"
    else:
        text += f", on_error={cfg.on_error}"
    if cfg.workers > 1:
        text += f", {cfg.workers} workers"
    return text


def _shown(key: str, value: str) -> str:
    return "***" if any(w in key.lower() for w in _SECRET_WORDS) else value


def load_plan(
    path: Path | str,
    *,
    wasm_loader: WasmLoader | None = None,
    text: str | None = None,
    display: str | None = None,
) -> Plan:
    """Validate the file at `path` and build its plan; raises `ConfigFileError`.

    With `text`, that YAML is read as if it were the file at `path`, and
    messages name it `display` (see `config.parse_config`).
    """
    config, problems = parse_config(path, direct_types=_direct_types, text=text, display=display)
    return _build(config, problems, wasm_loader)


def build_plan(config: PipelineConfig, *, wasm_loader: WasmLoader | None = None) -> Plan:
    """Instantiate and configure every stage of `config`; raises `ConfigFileError`."""
    return _build(config, Problems(str(config.path)), wasm_loader)


def _build(config: PipelineConfig, problems: Problems, wasm_loader: WasmLoader | None) -> Plan:
    """Build every valid stage; raise every problem (earlier ones included) together."""
    dead = config.dead_letter_ids
    plan = Plan(config=config, sources=[], processors=[], sinks=[])
    try:
        # File order is sources, processors, sinks, and validation keeps each
        # kind in its section, so appending by kind keeps the declared order.
        for stage_config in config.stages:
            match _build_stage(stage_config, problems, wasm_loader):
                case SourceStage() as source:
                    plan.sources.append(source)
                case SinkStage() as sink if sink.id in dead:
                    plan.dead_letters[sink.id] = sink
                case SinkStage() as sink:
                    plan.sinks.append(sink)
                case FilterStage() | TransformStage() | AggregateStage() as processor:
                    plan.processors.append(processor)
        problems.raise_if_any()
    except BaseException:
        plan.close()
        raise
    return plan


def _build_stage(
    cfg: StageConfig, problems: Problems, wasm_loader: WasmLoader | None
) -> _AnyStage | None:
    ref = cfg.plugin
    plugin: Plugin
    try:
        if ref.wasm_path is not None:
            loader = stage_wasm_loader(cfg, wasm_loader)
            plugin = loader(ref.wasm_path, ref.kind, ref.name, cfg.id)
        else:
            assert ref.name is not None
            if ref.module is not None:
                plugin = load_plugin_file(ref.module).get(ref.kind, ref.name)()
            else:
                plugin = registry.get(ref.kind, ref.name)()
    except DataFlareError as exc:
        problems.add(cfg.ref_mark, cfg.where, str(exc))
        return None
    stage = None
    try:
        info = plugin.describe()
        if info.kind is not ref.kind:
            problems.add(
                cfg.ref_mark,
                cfg.where,
                f"plugin {info.name!r} is a {info.kind.value} plugin; expected a "
                f"{ref.kind.value} plugin",
            )
        elif check_params(cfg, info, problems):
            stage = _typed_stage(cfg, plugin, info)
            if stage is None:
                problems.add(
                    cfg.ref_mark,
                    cfg.where,
                    f"plugin {info.name!r} lacks methods of a {ref.kind.value} plugin "
                    f"(see dataflare.plugins.kinds)",
                )
            else:
                plugin.configure(dict(cfg.params))
    except PluginError as exc:
        # a parameter to blame is pointed at, as the checks before configure do
        blamed = exc.param if isinstance(exc, ConfigurationError) else None
        problems.add(
            cfg.param_marks.get(blamed or "", cfg.param_marks[""]),
            cfg.where,
            f"configure failed ({exc.kind}): {exc.message}",
        )
    except Exception as exc:
        problems.add(
            cfg.param_marks[""],
            cfg.where,
            f"plugin failed while being configured: {type(exc).__name__}: {exc}",
        )
    finally:
        if stage is None:
            _close_quietly(plugin)
    return stage


def _typed_stage(cfg: StageConfig, plugin: Plugin, info: PluginInfo) -> _AnyStage | None:
    """The stage of `plugin` typed by its kind; None if the plugin lacks methods of it."""
    match cfg.plugin.kind:
        case PluginKind.SOURCE if isinstance(plugin, SourcePlugin):
            return SourceStage(cfg, plugin, info)
        case PluginKind.FILTER if isinstance(plugin, FilterPlugin):
            return FilterStage(cfg, plugin, info)
        case PluginKind.TRANSFORM if isinstance(plugin, TransformPlugin):
            return TransformStage(cfg, plugin, info)
        case PluginKind.AGGREGATE if isinstance(plugin, FoldingPlugin):
            # `merge` is asked for only where an aggregate is split, which the
            # executor does not do yet; a 0.1 adapter may lack it until then.
            return AggregateStage(cfg, cast(AggregatePlugin, plugin), info)
        case PluginKind.SINK if isinstance(plugin, SinkPlugin):
            return SinkStage(cfg, plugin, info)
    return None


def check_params(cfg: StageConfig, info: PluginInfo, problems: Problems) -> bool:
    """Check names against the declared params, so each problem points at its key."""
    if not info.params:
        return True  # a plugin that declares nothing decides for itself in configure
    declared = {p.name for p in info.params}
    known = ", ".join(sorted(declared))
    ok = True
    for key in cfg.params:
        if key not in declared:
            problems.add(
                cfg.param_marks.get(key, cfg.mark),
                cfg.where,
                f"unknown parameter {key!r} for plugin {info.name!r}; its parameters: {known}",
            )
            ok = False
    for param in info.params:
        if param.required and param.name not in cfg.params:
            what = f" ({param.description})" if param.description else ""
            problems.add(
                cfg.param_marks[""],
                cfg.where,
                f"missing required parameter {param.name!r}{what} for plugin {info.name!r}",
            )
            ok = False
    return ok


def stage_wasm_loader(cfg: StageConfig, wasm_loader: WasmLoader | None = None) -> WasmLoader:
    """How stage `cfg` loads its component: `wasm_loader` or the default, pooled by `workers`."""
    loader = wasm_loader or _default_wasm_loader(cfg)
    if cfg.workers > 1:
        # Each member comes from the stage's own loader: same limits and grants.
        loader = pooled_loader(loader, cfg.workers)
    return loader


def _close_quietly(plugin: Plugin) -> None:
    with contextlib.suppress(Exception):
        plugin.close()


def _close_all(stages: list[Stage[Plugin]]) -> list[str]:
    failures = []
    for stage in stages:
        try:
            stage.plugin.close()
        except Exception as exc:
            failures.append(f"closing {stage.id!r} failed: {exc}")
    return failures


def _direct_types(kind: PluginKind) -> list[str]:
    return registry.available(kind)


def _default_wasm_loader(cfg: StageConfig) -> WasmLoader:
    """`load_wasm_plugin` with the stage's limits and grants (always some limits)."""
    # Imported on use: a pipeline of native plugins never loads wasmtime.
    from dataflare.plugins.wasm import load_wasm_plugin as load

    def loader(path: Path, kind: PluginKind, name: str | None, stage: str) -> AnyPlugin:
        lim = cfg.limits
        plugin: AnyPlugin = load(
            path,
            kind,
            name=name,
            stage=stage,
            limits=lim.runtime_limits(),
            engine_config=lim.engine_config(),
            caps=cfg.allow,
            fuel_per_record=lim.fuel_per_record,
            max_record_bytes=lim.max_record_bytes,
        )
        return plugin

    return loader
