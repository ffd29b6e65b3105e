"""The five DataFlare worlds as `WorldSpec` values, one per plugin kind.

The generated bindings (`dataflare.bindings.<world>`) are the source of
truth and are used whenever they are importable. Until they exist, the
specs below, written from `wit/*.wit`, stand in; a test checks that the
two agree once the bindings land.
"""

from __future__ import annotations

import importlib
from functools import cache

from dataflare.bindgen.rt import WorldSpec
from dataflare.model import PluginKind

__all__ = [
    "BASE_EXPORTS",
    "PACKAGE",
    "all_worlds",
    "distinctive_exports",
    "generated",
    "world_for",
]

PACKAGE = "dataflare:plugin"
BASE_EXPORTS = ("describe", "configure")
"""Exports every world has; they tell nothing about the kind."""

_VERSION = "0.1.0"
_IMPORTS = (f"{PACKAGE}/log@{_VERSION}",)

_KIND_EXPORTS: dict[PluginKind, tuple[str, ...]] = {
    PluginKind.FILTER: ("filter", "filter-batch"),
    PluginKind.TRANSFORM: ("transform", "transform-batch"),
    PluginKind.AGGREGATE: ("init", "aggregate", "aggregate-batch", "emit"),
    PluginKind.SOURCE: ("connect", "read", "checkpoint", "restore", "close"),
    PluginKind.SINK: ("connect", "write", "write-batch", "flush", "close"),
}

_FROM_WIT: dict[PluginKind, WorldSpec] = {
    kind: WorldSpec(
        package=PACKAGE,
        name=kind.value,
        version=_VERSION,
        exports=BASE_EXPORTS + exports,
        imports=_IMPORTS,
    )
    for kind, exports in _KIND_EXPORTS.items()
}


def generated(kind: PluginKind, attribute: str) -> object | None:
    """`attribute` of the generated bindings module for `kind`, or None if absent."""
    module_name = f"dataflare.bindings.{kind.value}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name not in ("dataflare.bindings", module_name):
            raise
        return None
    return getattr(module, attribute, None)


@cache
def world_for(kind: PluginKind) -> WorldSpec:
    """The world a plugin of `kind` must target (generated bindings first)."""
    spec = generated(kind, "WORLD")
    return spec if isinstance(spec, WorldSpec) else _FROM_WIT[kind]


def all_worlds() -> dict[PluginKind, WorldSpec]:
    """Every world, keyed by plugin kind, in `PluginKind` order."""
    return {kind: world_for(kind) for kind in PluginKind}


def distinctive_exports(kind: PluginKind) -> frozenset[str]:
    """Exports of `kind`'s world that no other world has: they tell the kind."""
    own = set(world_for(kind).exports)
    for other in PluginKind:
        if other is not kind:
            own -= set(world_for(other).exports)
    return frozenset(own)
