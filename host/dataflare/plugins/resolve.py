"""From a plugin reference (`.wasm` or `.py` path, `kind/name`, bare native name) to a plugin.

`open_plugin` is the one place that opens a plugin by reference: the public
API (`dataflare.open_plugin`) and `dataflare inspect` / `dataflare test`
use it. Pipelines open theirs through the plan, which knows the stage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dataflare.errors import PluginNotFoundError
from dataflare.model import PluginKind
from dataflare.plugins import registry
from dataflare.plugins.kinds import AnyPlugin
from dataflare.plugins.plugin_file import load_plugin_file
from dataflare.plugins.registry import parse_kind

__all__ = ["PluginSpec", "open_plugin", "parse_spec"]


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """A parsed PLUGIN argument: a component `path`, a native `kind` and `name`, or a `module`.

    With `module` (a `.py` file of `@register` classes), `kind` and `name`
    narrow down which of its plugins is meant; None means "the only one".
    """

    path: Path | None = None
    kind: PluginKind | None = None
    name: str | None = None
    module: Path | None = None


def parse_spec(text: str, kind: PluginKind | str | None = None) -> PluginSpec:
    """Read `text` as a `.wasm` path, ``kind/name`` or a native name.

    Anything ending in ``.py`` is a plugin file; ``.wasm`` or any other
    existing file is a component path. A bare
    name needs `kind`, unless exactly one kind has a native plugin of that name.
    Raises `PluginNotFoundError` when the text names no plugin.
    """
    wanted = None if kind is None else parse_kind(kind)
    if text.endswith(".py"):
        return PluginSpec(kind=wanted, module=Path(text))
    if text.endswith(".wasm") or Path(text).is_file():
        return PluginSpec(path=Path(text), kind=wanted)
    kind_text, slash, name = text.rpartition("/")
    if slash:
        found = parse_kind(kind_text)
        if wanted is not None and wanted is not found:
            raise PluginNotFoundError(
                f"{text!r} is a {found.value} plugin but --world asks for {wanted.value}"
            )
        return PluginSpec(kind=found, name=name)
    if wanted is not None:
        return PluginSpec(kind=wanted, name=text)
    matches = [k for k in PluginKind if text in registry.available(k)]
    if len(matches) == 1:
        return PluginSpec(kind=matches[0], name=text)
    if matches:
        kinds = ", ".join(f"{k.value}/{text}" for k in matches)
        raise PluginNotFoundError(f"{text!r} is ambiguous; say which: {kinds}")
    raise PluginNotFoundError(
        f"no plugin {text!r}: not a .wasm file and no native plugin of that name "
        f"(native plugins: {_all_native()})"
    )


def open_plugin(
    plugin: str | os.PathLike[str],
    kind: PluginKind | str | None = None,
    *,
    config: Mapping[str, str] | None = None,
    stage: str | None = None,
    name: str | None = None,
) -> AnyPlugin:
    """Open the plugin `plugin` names: a component file, ``kind/name`` or a native name.

    A path object is always a component; text is read as `parse_spec` says.
    `kind` is the world a component must target, or the kind of a bare native
    name. With `config` the plugin is configured (and closed again if that
    fails); `stage` tags a component's log records; `name` picks one plugin of
    a `.py` file that registers several. A component runs on a pipeline's
    engine (fuel and epochs counted, no limit set), so the one compile serves
    `run` and `check` as well. Raises
    `PluginNotFoundError` listing the alternatives, or a `ComponentError`.
    """
    if isinstance(plugin, os.PathLike):
        spec = PluginSpec(path=Path(plugin), kind=None if kind is None else parse_kind(kind))
    else:
        spec = parse_spec(plugin, kind)
    opened: AnyPlugin
    if spec.path is not None:
        # Imported here: loading a component needs wasmtime, naming a native plugin does not.
        from dataflare.plugins.wasm import load_wasm_plugin
        from dataflare.runtime.engine import SANDBOX_CONFIG

        # A pipeline's engine, with no limits set: the compiled component is the
        # one `run` and `check` use, so a new component compiles once for all.
        opened = load_wasm_plugin(spec.path, spec.kind, stage=stage, engine_config=SANDBOX_CONFIG)
    elif spec.module is not None:
        opened = load_plugin_file(spec.module).pick(spec.kind, name)[2]()
    else:
        assert spec.kind is not None and spec.name is not None
        opened = registry.get(spec.kind, spec.name)()
    if config is not None:
        try:
            opened.configure(config)
        except BaseException:
            opened.close()
            raise
    return opened


def _all_native() -> str:
    names = [f"{k.value}/{n}" for k in PluginKind for n in registry.available(k)]
    return ", ".join(names) or "none"
