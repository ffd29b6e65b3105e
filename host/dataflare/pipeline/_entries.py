"""Checking the plugin part of an entry's `config`: which plugin, and its parameters."""

from __future__ import annotations

from dataflare.errors import DataFlareError
from dataflare.model import PluginKind
from dataflare.pipeline._checks import Checker, scalar_text, type_name
from dataflare.pipeline._schema import PLUGIN_KEYS, SECTION_KINDS, PluginRef, Section
from dataflare.pipeline._yaml import Located, Mark
from dataflare.plugins.plugin_file import load_plugin_file

__all__ = ["EntryChecker"]


class EntryChecker(Checker):
    """Validates `config.plugin_*`, `params` and `connection` of one entry."""

    def plugin_ref(
        self, node: Located, config: dict[str, Located], section: Section, where: str
    ) -> PluginRef | None:
        """The plugin `type: plugin` names (native name or WASM path), or None if invalid."""
        self.unknown_keys(node, PLUGIN_KEYS, f"{where} config")
        kinds = SECTION_KINDS[section]
        choices = " or ".join(k.value for k in kinds)
        if "plugin_type" not in config:
            self.p.add(node.mark, where, f"missing `config.plugin_type`: expected {choices}")
            return None
        kind_text = self.string(config["plugin_type"], where, "`plugin_type`")
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
            source = self.string(config["plugin_source"], where, "`plugin_source`") or ""
            if source not in ("native", "wasm"):
                self.p.add(
                    config["plugin_source"].mark,
                    where,
                    f"`plugin_source` must be native or wasm; got {source!r}",
                )
                return None
        name = (
            self.string(config["plugin_name"], where, "`plugin_name`")
            if "plugin_name" in config
            else None
        )
        if source == "wasm" or "plugin_path" in config:
            if "plugin_module" in config:
                self.p.add(
                    config["plugin_module"].mark,
                    where,
                    "`plugin_module` is for native plugins; a WASM component needs only "
                    "`plugin_path`",
                )
                return None
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
            text = self.string(config["plugin_path"], where, "`plugin_path`")
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
        if "plugin_module" in config:
            return self._module_ref(config["plugin_module"], kind, name, where)
        return PluginRef(kind, name)

    def _module_ref(
        self, node: Located, kind: PluginKind, name: str, where: str
    ) -> PluginRef | None:
        """`plugin_module: file.py`: import it now, so a bad file is a located problem."""
        text = self.string(node, where, "`plugin_module`")
        if text is None:
            return None
        path = (self.base / text).resolve()
        if not path.is_file():
            self.p.add(node.mark, where, f"`plugin_module`: file not found: {path}")
            return None
        try:
            load_plugin_file(path).get(kind, name)
        except DataFlareError as exc:
            self.p.add(node.mark, where, f"`plugin_module`: {exc}")
            return None
        return PluginRef(kind, name, module=path)

    def params(
        self,
        node: Located,
        config: dict[str, Located],
        section: Section,
        where: str,
        *,
        flat: bool,
        host_paths: bool = True,
    ) -> tuple[dict[str, str], dict[str, Mark]] | None:
        """`params` and `connection` merged into strings, with each key's position.

        `flat` (a connector named directly as `type`) also takes any other key
        of `config` as a parameter. `host_paths` resolves relative ``path`` /
        ``*_path`` values against the file's folder (not for WASM plugins, whose
        paths are guest paths). None when anything is invalid.
        """
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
                    f"{type_name(located.value)}",
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
                text = scalar_text(value.value)
                if text is None:
                    self.p.add(
                        value.mark,
                        where,
                        f"`{group}.{key}`: expected a string, number or boolean, got "
                        f"{type_name(value.value)}",
                    )
                    ok = False
                    continue
                if host_paths and (key == "path" or key.endswith("_path")):
                    text = str(self.base / text) if text else text
                values[key] = text
                marks[key] = key_mark
        return (values, marks) if ok else None
