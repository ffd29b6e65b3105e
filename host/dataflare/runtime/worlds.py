"""The DataFlare worlds, one per plugin kind and package version, from the generated bindings.

`dataflare._wit` (generated from `wit/`, `dataflare:plugin@0.2.0`) and
`dataflare._wit_v0_1` (from `wit/v0.1.0`) are the single source of truth:
each world module's `WORLD` spec says what a component must export and
import, its world class wraps an instance, and its `add_imports_to_linker`
serves the world's imports. A host function that takes no `version` means
the current one, `CURRENT`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import wasmtime
from wasmtime.component import Instance

from dataflare import _wit, _wit_v0_1
from dataflare.abi.rt import WorldSpec
from dataflare.model import PluginKind

__all__ = [
    "BASE_EXPORTS",
    "CURRENT",
    "PACKAGE",
    "SUPPORTED",
    "AddImports",
    "Bindings",
    "all_worlds",
    "bindings_for",
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

_CLASS_NAMES = {
    PluginKind.SOURCE: "Source",
    PluginKind.SINK: "Sink",
    PluginKind.FILTER: "Filter",
    PluginKind.TRANSFORM: "Transform",
    PluginKind.AGGREGATE: "Aggregate",
}


@dataclass(frozen=True, slots=True)
class Bindings:
    """One version of our package: its five world modules, keyed by kind."""

    version: str
    modules: dict[PluginKind, ModuleType]

    def world(self, kind: PluginKind) -> WorldSpec:
        """The world spec of `kind` at this version."""
        spec: WorldSpec = self.modules[kind].WORLD
        return spec

    def world_class(self, kind: PluginKind) -> Callable[[wasmtime.Store, Instance], Any]:
        """The generated class wrapping an instance of `kind`'s world."""
        cls: Callable[[wasmtime.Store, Instance], Any] = getattr(
            self.modules[kind], _CLASS_NAMES[kind]
        )
        return cls

    def imports(self, kind: PluginKind) -> AddImports:
        """The generated function that links `kind`'s own imports into a linker."""
        add: AddImports = self.modules[kind].add_imports_to_linker
        return add


def _bindings(package: ModuleType) -> Bindings:
    modules = {kind: getattr(package, kind.value) for kind in PluginKind}
    versions = {m.WORLD.version for m in modules.values()}
    assert len(versions) == 1, versions
    return Bindings(versions.pop(), modules)


_ALL = (_bindings(_wit_v0_1), _bindings(_wit))
_BY_VERSION = {b.version: b for b in _ALL}
CURRENT = _ALL[-1].version
"""The version of our package this host's own worlds are at (`wit/`)."""
SUPPORTED: tuple[str, ...] = tuple(b.version for b in _ALL)
"""Every version of our package this host loads components of, oldest first."""


def bindings_for(version: str | None = None) -> Bindings:
    """The bindings a component built for `version` is called through (None: `CURRENT`).

    `version` may be any semver-compatible version of a supported one (a
    component built for 0.1.7 uses the 0.1.0 bindings); `KeyError` otherwise.
    """
    if version is None:
        return _BY_VERSION[CURRENT]
    found = _BY_VERSION.get(version)
    if found is not None:
        return found
    from dataflare.runtime.identify import compatible  # identify imports this module

    for candidate in reversed(_ALL):
        if compatible(candidate.version, version):
            return candidate
    raise KeyError(version)


def world_for(kind: PluginKind, version: str | None = None) -> WorldSpec:
    """The world a plugin of `kind` built for `version` (default: `CURRENT`) must target."""
    return bindings_for(version).world(kind)


def world_class(
    kind: PluginKind, version: str | None = None
) -> Callable[[wasmtime.Store, Instance], Any]:
    """The generated class wrapping an instance of `kind`'s world (e.g. `Filter`)."""
    return bindings_for(version).world_class(kind)


def world_imports(kind: PluginKind, version: str | None = None) -> AddImports:
    """The generated function that links `kind`'s own imports (`log`) into a linker."""
    return bindings_for(version).imports(kind)


def all_worlds(version: str | None = None) -> dict[PluginKind, WorldSpec]:
    """Every world at `version` (default: `CURRENT`), keyed by kind, in `PluginKind` order."""
    found = bindings_for(version)
    return {kind: found.world(kind) for kind in PluginKind}


def distinctive_exports(kind: PluginKind, version: str | None = None) -> frozenset[str]:
    """Exports of `kind`'s world that no other world of the same version has: they tell the kind."""
    worlds = all_worlds(version)
    own = set(worlds[kind].exports)
    for other in PluginKind:
        if other is not kind:
            own -= set(worlds[other].exports)
    return frozenset(own)
