"""The five DataFlare worlds, one per plugin kind, from the generated bindings.

`dataflare._wit.<world>` (generated from `wit/`) is the single source
of truth: its `WORLD` spec says what a component must export and import, its
world class wraps an instance, and its `add_imports_to_linker` serves the
world's imports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime.component import Instance

from dataflare._wit import aggregate, sink, source, transform
from dataflare._wit import filter as filter_
from dataflare.abi.rt import WorldSpec
from dataflare.model import PluginKind

__all__ = [
    "BASE_EXPORTS",
    "PACKAGE",
    "AddImports",
    "all_worlds",
    "distinctive_exports",
    "world_class",
    "world_for",
    "world_imports",
]

PACKAGE = "dataflare:plugin"
BASE_EXPORTS = ("describe", "configure")
"""Exports every world has; they tell nothing about the kind."""

AddImports = Callable[..., None]
"""A generated ``add_imports_to_linker(linker, *, log)``."""

_WORLDS: dict[PluginKind, WorldSpec] = {
    PluginKind.SOURCE: source.WORLD,
    PluginKind.SINK: sink.WORLD,
    PluginKind.FILTER: filter_.WORLD,
    PluginKind.TRANSFORM: transform.WORLD,
    PluginKind.AGGREGATE: aggregate.WORLD,
}
_CLASSES: dict[PluginKind, Callable[[wasmtime.Store, Instance], Any]] = {
    PluginKind.SOURCE: source.Source,
    PluginKind.SINK: sink.Sink,
    PluginKind.FILTER: filter_.Filter,
    PluginKind.TRANSFORM: transform.Transform,
    PluginKind.AGGREGATE: aggregate.Aggregate,
}
_IMPORTS: dict[PluginKind, AddImports] = {
    PluginKind.SOURCE: source.add_imports_to_linker,
    PluginKind.SINK: sink.add_imports_to_linker,
    PluginKind.FILTER: filter_.add_imports_to_linker,
    PluginKind.TRANSFORM: transform.add_imports_to_linker,
    PluginKind.AGGREGATE: aggregate.add_imports_to_linker,
}


def world_for(kind: PluginKind) -> WorldSpec:
    """The world a plugin of `kind` must target."""
    return _WORLDS[kind]


def world_class(kind: PluginKind) -> Callable[[wasmtime.Store, Instance], Any]:
    """The generated class wrapping an instance of `kind`'s world (e.g. `Filter`)."""
    return _CLASSES[kind]


def world_imports(kind: PluginKind) -> AddImports:
    """The generated function that links `kind`'s own imports (`log`) into a linker."""
    return _IMPORTS[kind]


def all_worlds() -> dict[PluginKind, WorldSpec]:
    """Every world, keyed by plugin kind, in `PluginKind` order."""
    return {kind: _WORLDS[kind] for kind in PluginKind}


def distinctive_exports(kind: PluginKind) -> frozenset[str]:
    """Exports of `kind`'s world that no other world has: they tell the kind."""
    own = set(_WORLDS[kind].exports)
    for other in PluginKind:
        if other is not kind:
            own -= set(_WORLDS[other].exports)
    return frozenset(own)
