"""Naming a plugin on a command line: a `.wasm` path, `kind/name`, or a bare native name.

`open_spec` is what `dataflare inspect` and `dataflare test` use to turn the
user's PLUGIN argument into a plugin object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataflare.errors import PluginNotFoundError
from dataflare.model import PluginKind
from dataflare.plugins import registry
from dataflare.plugins.kinds import AnyPlugin
from dataflare.plugins.wasm import load_wasm_plugin

__all__ = ["PluginSpec", "open_spec", "parse_spec"]


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """A parsed PLUGIN argument: either a component `path` or a native `kind` and `name`."""

    path: Path | None = None
    kind: PluginKind | None = None
    name: str | None = None


def parse_spec(text: str, kind: PluginKind | str | None = None) -> PluginSpec:
    """Read `text` as a `.wasm` path, ``kind/name`` or a native name.

    Anything ending in ``.wasm`` or naming an existing file is a path. A bare
    name needs `kind`, unless exactly one kind has a native plugin of that name.
    Raises `PluginNotFoundError` when the text names no plugin.
    """
    wanted = None if kind is None else registry.parse_kind(kind)
    if text.endswith(".wasm") or Path(text).is_file():
        return PluginSpec(path=Path(text), kind=wanted)
    kind_text, slash, name = text.rpartition("/")
    if slash:
        found = registry.parse_kind(kind_text)
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


def open_spec(
    text: str, kind: PluginKind | str | None = None, *, stage: str | None = None
) -> AnyPlugin:
    """The plugin `text` names (see `parse_spec`), loaded or instantiated, not configured."""
    spec = parse_spec(text, kind)
    if spec.path is not None:
        return load_wasm_plugin(spec.path, spec.kind, stage=stage)
    assert spec.kind is not None and spec.name is not None
    plugin: AnyPlugin = registry.get(spec.kind, spec.name)()
    return plugin


def _all_native() -> str:
    names = [f"{k.value}/{n}" for k in PluginKind for n in registry.available(k)]
    return ", ".join(names) or "none"
