"""The pipeline file: its schema, and validation that reports every problem at once.

A pipeline file has three lists, ``sources``, ``processors`` (optional) and
``sinks``, of entries::

    - id: user_filter            # unique across the file
      type: plugin               # or a built-in connector name (sources/sinks)
      on_error: dead_letter      # fail (default) | skip | dead_letter
      dead_letter: rejects       # a sink id, only with on_error: dead_letter
      config:
        plugin_type: filter      # source | sink | filter | transform | aggregate
        plugin_name: json_filter # a native plugin from the registry, or:
        # plugin_source: wasm
        # plugin_path: plugins/filter.wasm   (relative to this file)
        params: {field: status, value: active}
        connection: {host: localhost}        # sources and sinks only

Optional top-level keys: ``name`` (defaults to the file name),
``batch_size`` (records per source read, default 500) and ``state`` (the
checkpoint file, relative to this file; default
``.dataflare/<file stem>.state.json`` next to it).

Rules worth knowing:

* ``params`` and ``connection`` are merged into the one string map
  `configure` receives; a name given in both is an error, never a silent
  override. Scalars become strings (``true``/``false`` for booleans).
* A built-in connector named directly (``type: jsonl``) may take its
  parameters flat: ``config: {path: out.jsonl}`` means
  ``config: {params: {path: out.jsonl}}``.
* A parameter named ``path`` or ending in ``_path`` is a file path: when
  relative it is resolved against the folder of the pipeline file.
* A sink named by some stage's ``dead_letter`` receives only dead letters,
  not the main flow.
* ``limits`` and ``allow`` are reserved for per-plugin sandbox settings and
  are rejected until the sandbox supports them, so nobody believes a limit
  is enforced when it is not.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dataflare.errors import ConfigFileError
from dataflare.model import PluginKind
from dataflare.pipeline._yaml import Located, Mark, YamlLoadError, load_located

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "OnError",
    "PipelineConfig",
    "PluginRef",
    "Problems",
    "Section",
    "StageConfig",
    "load_config",
    "parse_config",
]

OnError = Literal["fail", "skip", "dead_letter"]
Section = Literal["sources", "processors", "sinks"]

DEFAULT_BATCH_SIZE = 500
_ON_ERROR: tuple[OnError, ...] = ("fail", "skip", "dead_letter")
_TOP_KEYS = ("name", "batch_size", "state", "sources", "processors", "sinks")
_ENTRY_KEYS = ("id", "type", "config", "on_error", "dead_letter")
_RESERVED = {
    "limits": "per-plugin limits are not supported yet (they come with the sandbox work)",
    "allow": "per-plugin capabilities are not supported yet (they come with the sandbox work)",
}
_PLUGIN_KEYS = (
    "plugin_type",
    "plugin_name",
    "plugin_source",
    "plugin_path",
    "params",
    "connection",
)
_SECTION_KINDS: dict[Section, tuple[PluginKind, ...]] = {
    "sources": (PluginKind.SOURCE,),
    "processors": (PluginKind.FILTER, PluginKind.TRANSFORM, PluginKind.AGGREGATE),
    "sinks": (PluginKind.SINK,),
}
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class PluginRef:
    """Which plugin a stage runs: a native one by name, or a WASM component by path."""

    kind: PluginKind
    name: str | None
    wasm_path: Path | None = None

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


def load_config(
    path: Path | str, *, direct_types: Callable[[PluginKind], Sequence[str]]
) -> PipelineConfig:
    """Read and validate a pipeline file; raises `ConfigFileError` listing every problem.

    `direct_types(kind)` lists the connector names allowed directly as
    ``type`` for sources or sinks. Plugin names are checked later, when the
    plan resolves them.
    """
    config, problems = parse_config(path, direct_types=direct_types)
    problems.raise_if_any()
    return config


def parse_config(
    path: Path | str, *, direct_types: Callable[[PluginKind], Sequence[str]]
) -> tuple[PipelineConfig, Problems]:
    """Like `load_config`, but returns the problems with the entries that are valid.

    Raises `ConfigFileError` only when the file cannot be read as YAML at all;
    otherwise the caller can go on checking the valid entries (the plan does)
    and report everything together.
    """
    path = Path(path)
    display = str(path)
    problems = Problems(display)
    origin = Mark(display, 1, 1)
    try:
        root = load_located(path, display)
    except FileNotFoundError:
        raise ConfigFileError(
            display, [f"{origin}: pipeline: file not found: {path.resolve()}"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(
            display, [f"{origin}: pipeline: cannot read the file: {exc}"]
        ) from None
    except YamlLoadError as exc:
        raise ConfigFileError(display, [f"{exc.mark}: pipeline: {exc.message}"]) from None
    if root is None or not isinstance(root.value, dict):
        got = "an empty file" if root is None else _type_name(root.value)
        where = origin if root is None else root.mark
        problems.add(
            where,
            "pipeline",
            f"expected a mapping with keys sources, processors, sinks; got {got}",
        )
        problems.raise_if_any()
    assert root is not None
    return _Validator(path.resolve().parent, problems, direct_types).pipeline(path, root), problems


class _Validator:
    def __init__(
        self, base: Path, problems: Problems, direct_types: Callable[[PluginKind], Sequence[str]]
    ) -> None:
        self.base = base
        self.p = problems
        self.direct_types = direct_types

    def pipeline(self, path: Path, root: Located) -> PipelineConfig:
        top: dict[str, Located] = root.value
        self._unknown_keys(root, _TOP_KEYS, "pipeline")
        name = path.stem
        if "name" in top:
            name = self._string(top["name"], "pipeline", "`name`") or name
        batch_size = DEFAULT_BATCH_SIZE
        if "batch_size" in top:
            batch_size = (
                self._positive_int(top["batch_size"], "pipeline", "`batch_size`") or batch_size
            )
        state_path = self.base / ".dataflare" / f"{path.stem}.state.json"
        if "state" in top:
            text = self._string(top["state"], "pipeline", "`state` (a file path)")
            if text:
                state_path = self.base / text
        sections: dict[Section, list[StageConfig]] = {}
        for section in ("sources", "processors", "sinks"):
            sections[section] = self._section(root, section)
        self._cross_check(sections)
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
                f"expected a list of entries {{id, type, config}}, got {_type_name(node.value)}",
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
                f"expected a mapping {{id, type, config}}, got {_type_name(item.value)}",
            )
            return None
        entry: dict[str, Located] = item.value
        ok = True
        stage_id = None
        if "id" in entry:
            stage_id = self._string(entry["id"], where, "`id`")
            if stage_id is not None and not _ID_RE.match(stage_id):
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
        for key, reason in _RESERVED.items():
            if key in entry:
                self.p.add(item.key_marks[key], where, f"`{key}`: {reason}")
                ok = False
        ok &= self._unknown_keys(item, _ENTRY_KEYS + tuple(_RESERVED), where)
        stage_type = self._string(entry["type"], where, "`type`") if "type" in entry else None
        if "type" not in entry:
            self.p.add(item.mark, where, f"missing `type`: expected {self._type_choices(section)}")
        on_error, dead_letter = self._policy(entry, item, where, section)
        config_node = entry.get("config")
        config: dict[str, Located] = {}
        config_mark = config_node.mark if config_node is not None else item.mark
        if config_node is not None and config_node.value is not None:
            if isinstance(config_node.value, dict):
                config = config_node.value
            else:
                self.p.add(
                    config_node.mark,
                    where,
                    f"`config`: expected a mapping, got {_type_name(config_node.value)}",
                )
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
            ref = self._plugin_ref(config_node, config, section, where)
            params = self._params(config_node, config, section, where, flat=False)
        else:
            direct = list(self._direct(section))
            if stage_type not in direct:
                self.p.add(
                    entry["type"].mark,
                    where,
                    f"unknown `type` {stage_type!r}: expected "
                    f"{self._type_choices(section)}{_suggest(stage_type, direct)}",
                )
                return None
            ref = PluginRef(_SECTION_KINDS[section][0], stage_type)
            params = self._params(
                config_node or Located({}, config_mark), config, section, where, flat=True
            )
        named = (
            config.get("plugin_path") or config.get("plugin_name")
            if stage_type == "plugin"
            else None
        )
        ref_mark = (named or entry["type"]).mark
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
        )

    def _policy(
        self, entry: dict[str, Located], item: Located, where: str, section: Section
    ) -> tuple[OnError | None, str | None]:
        on_error: OnError | None = "fail"
        if "on_error" in entry:
            text = self._string(entry["on_error"], where, "`on_error`")
            if text not in _ON_ERROR:
                if text is not None:
                    self.p.add(
                        entry["on_error"].mark,
                        where,
                        f"`on_error` must be one of fail, skip, dead_letter; got {text!r}",
                    )
                return None, None
            on_error = text
        if section == "sources" and on_error != "fail":
            self.p.add(
                entry["on_error"].mark,
                where,
                "`on_error` of a source can only be `fail`: a failed read has no record to skip "
                "or divert",
            )
            return None, None
        dead_letter = None
        if "dead_letter" in entry:
            dead_letter = self._string(entry["dead_letter"], where, "`dead_letter` (a sink id)")
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

    def _plugin_ref(
        self, node: Located, config: dict[str, Located], section: Section, where: str
    ) -> PluginRef | None:
        self._unknown_keys(node, _PLUGIN_KEYS, f"{where} config")
        kinds = _SECTION_KINDS[section]
        choices = " or ".join(k.value for k in kinds)
        if "plugin_type" not in config:
            self.p.add(node.mark, where, f"missing `config.plugin_type`: expected {choices}")
            return None
        kind_text = self._string(config["plugin_type"], where, "`plugin_type`")
        kind = next((k for k in kinds if k.value == kind_text), None)
        if kind is None:
            if kind_text is not None:
                self.p.add(
                    config["plugin_type"].mark,
                    where,
                    f"`plugin_type` {kind_text!r} is not allowed in `{section}`: expected "
                    f"{choices}",
                )
            return None
        source = "native"
        if "plugin_source" in config:
            source = self._string(config["plugin_source"], where, "`plugin_source`") or ""
            if source not in ("native", "wasm"):
                self.p.add(
                    config["plugin_source"].mark,
                    where,
                    f"`plugin_source` must be native or wasm; got {source!r}",
                )
                return None
        name = (
            self._string(config["plugin_name"], where, "`plugin_name`")
            if "plugin_name" in config
            else None
        )
        if source == "wasm" or "plugin_path" in config:
            if source != "wasm":
                self.p.add(
                    config["plugin_path"].mark, where, "`plugin_path` needs `plugin_source: wasm`"
                )
                return None
            if "plugin_path" not in config:
                self.p.add(
                    node.mark,
                    where,
                    "missing `config.plugin_path`: `plugin_source: wasm` needs the path of a "
                    ".wasm component (relative to this file)",
                )
                return None
            text = self._string(config["plugin_path"], where, "`plugin_path`")
            if text is None:
                return None
            wasm = (self.base / text).resolve()
            if not wasm.is_file():
                self.p.add(
                    config["plugin_path"].mark, where, f"`plugin_path`: file not found: {wasm}"
                )
                return None
            return PluginRef(kind, name, wasm)
        if name is None:
            if "plugin_name" not in config:
                self.p.add(
                    node.mark,
                    where,
                    "missing `config.plugin_name` (a native plugin) or `plugin_source: wasm` "
                    "with `plugin_path`",
                )
            return None
        return PluginRef(kind, name)

    def _params(
        self, node: Located, config: dict[str, Located], section: Section, where: str, *, flat: bool
    ) -> tuple[dict[str, str], dict[str, Mark]] | None:
        values: dict[str, str] = {}
        marks: dict[str, Mark] = {}
        ok = True
        groups: list[tuple[str, Located]] = []
        for group in ("params", "connection"):
            if group not in config:
                continue
            if group == "connection" and section == "processors":
                self.p.add(
                    node.key_marks[group],
                    where,
                    "`connection` is only for sources and sinks; use `params`",
                )
                ok = False
                continue
            groups.append((group, config[group]))
        if flat:
            loose = {k: v for k, v in config.items() if k not in ("params", "connection")}
            groups.append(("config", Located(loose, node.mark, node.key_marks)))
        for group, located in groups:
            if located.value is None:
                continue
            if not isinstance(located.value, dict):
                self.p.add(
                    located.mark,
                    where,
                    f"`{group}`: expected a mapping of names to values, got "
                    f"{_type_name(located.value)}",
                )
                ok = False
                continue
            for key, value in located.value.items():
                key_mark = located.key_marks.get(key, located.mark)
                if key in values:
                    self.p.add(
                        key_mark,
                        where,
                        f"parameter {key!r} is given twice (in params and connection); give it "
                        "once",
                    )
                    ok = False
                    continue
                text = _scalar_text(value.value)
                if text is None:
                    self.p.add(
                        value.mark,
                        where,
                        f"`{group}.{key}`: expected a string, number or boolean, got "
                        f"{_type_name(value.value)}",
                    )
                    ok = False
                    continue
                if key == "path" or key.endswith("_path"):
                    text = str(self.base / text) if text else text
                values[key] = text
                marks[key] = key_mark
        return (values, marks) if ok else None

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
        return self.direct_types(_SECTION_KINDS[section][0])

    def _type_choices(self, section: Section) -> str:
        direct = self._direct(section)
        if not direct:
            return "'plugin'"
        return "'plugin' or a built-in connector: " + ", ".join(direct)

    def _unknown_keys(self, node: Located, allowed: Sequence[str], where: str) -> bool:
        ok = True
        for key in node.value:
            if key not in allowed:
                self.p.add(
                    node.key_marks.get(key, node.mark),
                    where,
                    f"unknown key {key!r}; expected one of: "
                    f"{', '.join(allowed)}{_suggest(key, allowed)}",
                )
                ok = False
        return ok

    def _string(self, node: Located, where: str, what: str) -> str | None:
        if isinstance(node.value, str) and node.value:
            return node.value
        self.p.add(
            node.mark, where, f"{what}: expected a non-empty string, got {_type_name(node.value)}"
        )
        return None

    def _positive_int(self, node: Located, where: str, what: str) -> int | None:
        if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value > 0:
            return node.value
        self.p.add(
            node.mark,
            where,
            f"{what}: expected a positive integer, got {_type_name(node.value)} {node.value!r}",
        )
        return None


def _scalar_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    return f"a {type(value).__name__}"


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
