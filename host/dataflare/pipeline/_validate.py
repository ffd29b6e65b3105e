"""Validating a parsed pipeline file: sections, entries, policies and cross references."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dataflare.model import PluginKind
from dataflare.pipeline._check_reload import ReloadChecker
from dataflare.pipeline._check_sandbox import SandboxChecker
from dataflare.pipeline._check_workers import WorkersChecker
from dataflare.pipeline._checks import U32_MAX, suggest, type_name
from dataflare.pipeline._entries import EntryChecker
from dataflare.pipeline._samefile import FileUse, check_same_files, uses_of
from dataflare.pipeline._schema import (
    DEFAULT_BATCH_SIZE,
    ENTRY_KEYS,
    ID_RE,
    ON_ERROR,
    RESERVED,
    SECTION_KINDS,
    TOP_KEYS,
    OnError,
    PipelineConfig,
    PluginRef,
    Problems,
    Section,
    StageConfig,
)
from dataflare.pipeline._yaml import Located
from dataflare.pipeline.stage_limits import DEFAULT_LIMITS
from dataflare.runtime.capabilities import DENY_ALL

__all__ = ["Validator"]


class Validator(EntryChecker, SandboxChecker, WorkersChecker, ReloadChecker):
    """Turns the located YAML tree into a `PipelineConfig`, collecting every problem."""

    def __init__(
        self, base: Path, problems: Problems, direct_types: Callable[[PluginKind], Sequence[str]]
    ) -> None:
        super().__init__(base, problems)
        self.direct_types = direct_types

    def pipeline(self, path: Path, root: Located) -> PipelineConfig:
        """Every valid entry of the file at `path` (problems go to `self.p`)."""
        top: dict[str, Located] = root.value
        self.unknown_keys(root, TOP_KEYS, "pipeline")
        name = path.stem
        if "name" in top:
            name = self.string(top["name"], "pipeline", "`name`") or name
        batch_size = DEFAULT_BATCH_SIZE
        if "batch_size" in top:
            # A source's read(max) takes a u32.
            batch_size = (
                self.positive_int(top["batch_size"], "pipeline", "`batch_size`", U32_MAX)
                or batch_size
            )
        state_path = self.base / ".dataflare" / f"{path.stem}.state.json"
        state_mark = root.mark
        if "state" in top:
            text = self.string(top["state"], "pipeline", "`state` (a file path)")
            if text:
                state_path = self.base / text
                state_mark = top["state"].mark
        sections: dict[Section, list[StageConfig]] = {}
        for section in ("sources", "processors", "sinks"):
            sections[section] = self._section(root, section)
        self._cross_check(sections)
        state = FileUse(
            "the state file", state_mark, state_path, writes=True, where="pipeline", key="state"
        )
        check_same_files([state, *uses_of(s for g in sections.values() for s in g)], self.p)
        return PipelineConfig(
            path=path,
            name=name,
            batch_size=batch_size,
            state_path=state_path,
            sources=tuple(sections["sources"]),
            processors=tuple(sections["processors"]),
            sinks=tuple(sections["sinks"]),
        )

    def _section(self, root: Located, section: Section) -> list[StageConfig]:
        node = root.value.get(section)
        required = section != "processors"
        if node is None or node.value is None:
            if required:
                self.p.add(
                    root.mark,
                    "pipeline",
                    f"missing `{section}`: expected a list of entries {{id, type, config}}",
                )
            return []
        if not isinstance(node.value, list):
            self.p.add(
                node.mark,
                section,
                f"expected a list of entries {{id, type, config}}, got {type_name(node.value)}",
            )
            return []
        if required and not node.value:
            self.p.add(node.mark, section, "expected at least one entry")
        stages = []
        for index, item in enumerate(node.value):
            stage = self._entry(item, section, index)
            if stage is not None:
                stages.append(stage)
        return stages

    def _entry(self, item: Located, section: Section, index: int) -> StageConfig | None:
        where = f"{section}[{index}]"
        if not isinstance(item.value, dict):
            self.p.add(
                item.mark,
                where,
                f"expected a mapping {{id, type, config}}, got {type_name(item.value)}",
            )
            return None
        entry: dict[str, Located] = item.value
        ok = True
        stage_id = None
        if "id" in entry:
            stage_id = self.string(entry["id"], where, "`id`")
            if stage_id is not None and not ID_RE.match(stage_id):
                self.p.add(
                    entry["id"].mark,
                    where,
                    f"`id` {stage_id!r} must be letters, digits, _ . - (not starting with a digit)",
                )
                stage_id = None
        else:
            self.p.add(item.mark, where, "missing `id`: expected a unique string naming this entry")
        if stage_id is not None:
            where = f"{section} entry {stage_id!r}"
        else:
            ok = False
        for key, reason in RESERVED.items():
            if key in entry:
                self.p.add(item.key_marks[key], where, f"`{key}`: {reason}")
                ok = False
        ok &= self.unknown_keys(item, ENTRY_KEYS + tuple(RESERVED), where)
        stage_type = self.string(entry["type"], where, "`type`") if "type" in entry else None
        if "type" not in entry:
            self.p.add(item.mark, where, f"missing `type`: expected {self._type_choices(section)}")
        on_error, dead_letter = self._policy(entry, item, where, section)
        config_node = entry.get("config")
        config: dict[str, Located] = {}
        config_mark = config_node.mark if config_node is not None else item.mark
        if config_node is not None and config_node.value is not None:
            if self.mapping(config_node, where, "`config`"):
                config = config_node.value
            else:
                ok = False
        if stage_type is None:
            return None
        if stage_type == "plugin":
            if config_node is None:
                self.p.add(
                    item.mark,
                    where,
                    "missing `config`: `type: plugin` needs config.plugin_type and plugin_name "
                    "or plugin_path",
                )
                return None
            ref = self.plugin_ref(config_node, config, section, where)
            # A WASM plugin sees paths through its granted dirs: never rewrite them.
            params = self.params(
                config_node,
                config,
                section,
                where,
                flat=False,
                host_paths=ref is None or ref.wasm_path is None,
            )
        else:
            direct = list(self._direct(section))
            if stage_type not in direct:
                self.p.add(
                    entry["type"].mark,
                    where,
                    f"unknown `type` {stage_type!r}: expected "
                    f"{self._type_choices(section)}{suggest(stage_type, direct)}",
                )
                return None
            ref = PluginRef(SECTION_KINDS[section][0], stage_type)
            params = self.params(
                config_node or Located({}, config_mark), config, section, where, flat=True
            )
        named = (
            config.get("plugin_path") or config.get("plugin_name")
            if stage_type == "plugin"
            else None
        )
        ref_mark = (named or entry["type"]).mark
        limits, allow = DEFAULT_LIMITS, DENY_ALL
        for key in ("limits", "allow"):
            if key in entry and (ref is None or ref.wasm_path is None):
                self.p.add(
                    item.key_marks[key],
                    where,
                    f"`{key}` applies to WASM plugins only (`plugin_source: wasm`); native "
                    "plugins run as trusted host code",
                )
                ok = False
        if "limits" in entry:
            checked_limits = self.limits(entry["limits"], where)
            ok &= checked_limits is not None
            limits = checked_limits or limits
        if "allow" in entry:
            checked_allow = self.allow(entry["allow"], where)
            ok &= checked_allow is not None
            allow = checked_allow or allow
        workers = 1
        if "workers" in entry:
            checked_workers = self.workers(entry["workers"], item.key_marks["workers"], ref, where)
            ok &= checked_workers is not None
            workers = checked_workers or workers
        reload = False
        if "reload" in entry:
            checked_reload = self.reload(entry["reload"], item.key_marks["reload"], ref, where)
            ok &= checked_reload is not None
            reload = bool(checked_reload)
        if (
            section == "sources"
            and ref is not None
            and ref.wasm_path is not None
            and on_error not in (None, "fail")
        ):
            # A native source reports input it cannot decode per record; a
            # component's read succeeds or fails whole, leaving nothing to divert.
            self.p.add(
                entry["on_error"].mark,
                where,
                "`on_error` of a WASM source can only be `fail`: its read succeeds or fails "
                "whole, so there is no record to skip or divert",
            )
            return None
        if ref is None or params is None or not ok or on_error is None:
            return None
        values, marks = params
        return StageConfig(
            id=stage_id or "",
            section=section,
            type=stage_type,
            plugin=ref,
            params=values,
            on_error=on_error,
            dead_letter=dead_letter,
            mark=item.mark,
            ref_mark=ref_mark,
            param_marks=marks | {"": config_mark},
            limits=limits,
            allow=allow,
            workers=workers,
            reload=reload,
        )

    def _policy(
        self, entry: dict[str, Located], item: Located, where: str, section: Section
    ) -> tuple[OnError | None, str | None]:
        on_error: OnError | None = "fail"
        if "on_error" in entry:
            text = self.string(entry["on_error"], where, "`on_error`")
            if text not in ON_ERROR:
                if text is not None:
                    self.p.add(
                        entry["on_error"].mark,
                        where,
                        f"`on_error` must be one of fail, skip, dead_letter; got {text!r}",
                    )
                return None, None
            on_error = text
        dead_letter = None
        if "dead_letter" in entry:
            dead_letter = self.string(entry["dead_letter"], where, "`dead_letter` (a sink id)")
            if on_error != "dead_letter":
                self.p.add(
                    entry["dead_letter"].mark,
                    where,
                    "`dead_letter` is only allowed with `on_error: dead_letter`",
                )
                return None, None
        elif on_error == "dead_letter":
            self.p.add(
                entry["on_error"].mark,
                where,
                "`on_error: dead_letter` needs `dead_letter: <sink id>`",
            )
            return None, None
        return on_error, dead_letter

    def _cross_check(self, sections: dict[Section, list[StageConfig]]) -> None:
        seen: dict[str, StageConfig] = {}
        for stage in (s for group in sections.values() for s in group):
            first = seen.setdefault(stage.id, stage)
            if first is not stage:
                self.p.add(
                    stage.mark,
                    stage.where,
                    f"duplicate id {stage.id!r} (first used at {first.mark})",
                )
        sinks = {s.id: s for s in sections["sinks"]}
        dead = set()
        for stage in (s for group in sections.values() for s in group):
            if stage.dead_letter is None:
                continue
            target = sinks.get(stage.dead_letter)
            if target is None:
                self.p.add(
                    stage.mark,
                    stage.where,
                    f"`dead_letter` {stage.dead_letter!r} is not a sink id; sinks: "
                    f"{', '.join(sinks) or 'none'}",
                )
            elif target is stage:
                self.p.add(stage.mark, stage.where, "`dead_letter` cannot name the sink itself")
            elif target.on_error == "dead_letter":
                self.p.add(
                    target.mark,
                    target.where,
                    "a dead-letter sink cannot itself use `on_error: dead_letter`",
                )
            dead.add(stage.dead_letter)
        if sections["sinks"] and all(s.id in dead for s in sections["sinks"]):
            first = sections["sinks"][0]
            self.p.add(
                first.mark,
                "sinks",
                "every sink is a dead-letter sink; at least one must receive the records",
            )

    def _direct(self, section: Section) -> Sequence[str]:
        if section == "processors":
            return ()
        return self.direct_types(SECTION_KINDS[section][0])

    def _type_choices(self, section: Section) -> str:
        direct = self._direct(section)
        if not direct:
            return "'plugin'"
        return "'plugin' or a built-in connector: " + ", ".join(direct)
