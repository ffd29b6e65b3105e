"""Which DataFlare world, at which version, a component's exports and imports match.

Pure functions over export and import names, so every rule here is tested
without building components. `dataflare.runtime.loader` adds the file name
and turns a `WorldProblem` into a `WorldMismatchError`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from dataflare.abi.rt import WorldSpec
from dataflare.model import PluginKind
from dataflare.runtime.worlds import (
    PACKAGE,
    SUPPORTED,
    bindings_for,
    distinctive_exports,
    world_for,
)

__all__ = [
    "Identified",
    "WorldProblem",
    "compatible",
    "identify",
    "parse_version",
    "supported_versions",
]

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?$")
_OWN = re.compile(rf"^{re.escape(PACKAGE)}/([a-z0-9-]+)(?:@(.+))?$")
_TYPES_ONLY = "types"
"""An interface of ours that holds only types, so the host provides nothing for it."""


class WorldProblem(ValueError):
    """Why a component does not fit; the message says what is missing or wrong."""


@dataclass(frozen=True, slots=True)
class Identified:
    """The world a component targets and the version of our package it was built for."""

    kind: PluginKind
    world: WorldSpec
    version: str


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; pre-release and build suffixes are ignored."""
    match = _VERSION.match(text)
    if match is None:
        raise WorldProblem(f"{text!r} is not a semantic version")
    return int(match[1]), int(match[2]), int(match[3])


def compatible(host: str, guest: str) -> bool:
    """Semver compatibility: below 1.0 the minor must match, from 1.0 the major."""
    h, g = parse_version(host), parse_version(guest)
    if h[0] == 0:
        return g[0] == 0 and g[1] == h[1]
    return g[0] == h[0]


def supported_versions() -> str:
    """The versions of our package this host loads, as a message shows them."""
    return ", ".join(f"{PACKAGE}@{_compatible_range(v)}" for v in SUPPORTED)


def identify(
    exports: Collection[str], imports: Collection[str], expected: PluginKind | None
) -> Identified:
    """Match export/import names against our worlds; raise `WorldProblem` if none fits.

    The version comes first, from the imports of our package: it says which
    version's worlds the exports must match (0.1 and 0.2 worlds differ).
    """
    version = _own_version(imports)
    host = None if version is None else _host_version(version)
    kind = _detect_kind(set(exports), expected, host)
    world = world_for(kind, host)
    missing = [name for name in world.exports if name not in exports]
    if missing:
        raise WorldProblem(
            f"it lacks exports of world {world.name}@{world.version}: {', '.join(missing)}"
            f" (it exports: {_listing(exports)})"
        )
    if version is None:
        raise WorldProblem(
            f"it imports no {PACKAGE} interface, so the version of world {world.name}"
            f" it was built for is unknown (it imports: {_listing(imports)})"
        )
    _check_imports(imports, world)
    return Identified(kind, world, version)


def _detect_kind(exports: set[str], expected: PluginKind | None, version: str | None) -> PluginKind:
    scores = {kind: len(distinctive_exports(kind, version) & exports) for kind in PluginKind}
    best = max(scores.values())
    if expected is not None and (scores[expected] == best or best == 0):
        return expected
    if best == 0:
        names = ", ".join(kind.value for kind in PluginKind)
        raise WorldProblem(
            f"it targets none of the worlds {names}: it has none of their"
            f" kind-specific exports (it exports: {_listing(exports)})"
        )
    leaders = [kind for kind, score in scores.items() if score == best]
    if expected is not None:
        found = leaders[0]
        need = ", ".join(n for n in world_for(expected, version).exports if n not in exports)
        raise WorldProblem(
            f"it targets world {found.value}, not {expected.value}"
            f" (it exports: {_listing(exports)}; missing: {need})"
        )
    if len(leaders) > 1:
        raise WorldProblem(
            f"its exports fit several worlds equally ({', '.join(k.value for k in leaders)});"
            f" it exports: {_listing(exports)}"
        )
    return leaders[0]


def _own_version(imports: Collection[str]) -> str | None:
    """The version of our package the imports name; None when they name none."""
    versions: dict[str, str | None] = {}
    for name in imports:
        match = _OWN.match(name)
        if match is not None:
            versions[name] = match[2]
    if not versions:
        return None
    found = set(versions.values())
    if None in found or len(found) > 1:
        shown = ", ".join(sorted(versions))
        raise WorldProblem(f"its {PACKAGE} imports disagree on the version: {shown}")
    (version,) = found
    assert version is not None
    return version


def _host_version(version: str) -> str:
    """The supported version whose bindings serve a component built for `version`."""
    try:
        parse_version(version)
    except WorldProblem as exc:
        raise WorldProblem(f"it imports {PACKAGE} at version {version}: {exc}") from None
    try:
        return bindings_for(version).version
    except KeyError:
        raise WorldProblem(
            f"it was built for {PACKAGE}@{version}, a version this host does not"
            f" support (it supports {supported_versions()})"
        ) from None


def _check_imports(imports: Collection[str], world: WorldSpec) -> None:
    provided = {_TYPES_ONLY}
    for name in world.imports:
        own = _OWN.match(name)
        if own is not None:
            provided.add(own[1])
    unknown = []
    for name in imports:
        own = _OWN.match(name)
        if own is not None:
            if own[1] not in provided:
                unknown.append(name)
        elif not (name.startswith("wasi:") and "@0.2." in name):
            unknown.append(name)
    if unknown:
        raise WorldProblem(
            f"it imports interfaces the host does not provide: {', '.join(sorted(unknown))}"
        )


def _compatible_range(version: str) -> str:
    major, minor, _ = parse_version(version)
    if major == 0:
        return f"0.{minor}.x"
    return f"{major}.x.y"


def _listing(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) if names else "nothing"
