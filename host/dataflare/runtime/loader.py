"""Load a `.wasm` file as a DataFlare plugin component, checked when loaded.

Every failure is a `ComponentError` whose message names the file, the
expected world and what is missing, so a bad plugin is reported when a
pipeline is built, never on its first record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from wasmtime.component import Component

from dataflare.abi.rt import WorldSpec
from dataflare.errors import ComponentLoadError, WorldMismatchError
from dataflare.model import PluginKind
from dataflare.runtime.cache import CompileCache, default_cache
from dataflare.runtime.engine import DEFAULT_CONFIG, EngineConfig, get_engine
from dataflare.runtime.identify import WorldProblem, identify, supported_versions
from dataflare.runtime.worlds import PACKAGE

__all__ = ["LoadedComponent", "load_component"]

_MAGIC = b"\0asm"
_CORE_LAYER = 0
_COMPONENT_LAYER = 1


@dataclass(frozen=True, slots=True)
class LoadedComponent:
    """A compiled component known to target `world` at a compatible `version`.

    `version` is the one the component was built for (e.g. 0.1.7); `world`
    is the host's world it is called through (e.g. 0.1.0's). `imports` are
    the component's import names, as found when loading.
    """

    path: Path
    component: Component
    world: WorldSpec
    version: str
    kind: PluginKind
    engine_config: EngineConfig
    imports: tuple[str, ...]

    @property
    def engine(self) -> wasmtime.Engine:
        """The engine the component was compiled for; stores must use it."""
        return get_engine(self.engine_config)


def load_component(
    path: str | os.PathLike[str],
    expected: PluginKind | None = None,
    *,
    engine_config: EngineConfig = DEFAULT_CONFIG,
    cache: CompileCache | None = None,
) -> LoadedComponent:
    """Read, compile (through the cache) and check a plugin component.

    With `expected`, the component must target that kind's world; without
    it, the world is told from the component's exports. Raises
    `ComponentLoadError` (missing, unreadable, corrupt, core module) or
    `WorldMismatchError` (other world, missing exports, incompatible version,
    imports the host does not provide).
    """
    where = Path(path)
    wanted = _expectation(expected)
    wasm = _read(where, wanted)
    _check_header(where, wanted, wasm)
    try:
        component = (cache or default_cache()).compile(wasm, engine_config, name=where.name)
    except wasmtime.WasmtimeError as exc:
        raise ComponentLoadError(
            f"{where}: cannot load as {wanted}: the component is corrupt"
            f" (wasmtime: {_first_line(exc)})"
        ) from exc
    engine = get_engine(engine_config)
    ctype = component.type
    exports = tuple(ctype.exports(engine))
    imports = tuple(ctype.imports(engine))
    try:
        found = identify(exports, imports, expected)
    except WorldProblem as exc:
        raise WorldMismatchError(f"{where}: cannot load as {wanted}: {exc}") from None
    return LoadedComponent(
        path=where,
        component=component,
        world=found.world,
        version=found.version,
        kind=found.kind,
        engine_config=engine_config,
        imports=imports,
    )


def _expectation(expected: PluginKind | None) -> str:
    if expected is None:
        worlds = ", ".join(kind.value for kind in PluginKind)
        return f"a DataFlare plugin (any world of {supported_versions()}: {worlds})"
    return f"a {expected.value} plugin (world {PACKAGE}/{expected.value} of {supported_versions()})"


def _read(where: Path, wanted: str) -> bytes:
    try:
        return where.read_bytes()
    except FileNotFoundError:
        raise ComponentLoadError(f"{where}: cannot load as {wanted}: file not found") from None
    except IsADirectoryError:
        raise ComponentLoadError(
            f"{where}: cannot load as {wanted}: it is a directory, not a .wasm file"
        ) from None
    except OSError as exc:
        raise ComponentLoadError(
            f"{where}: cannot load as {wanted}: file is unreadable ({exc.strerror or exc})"
        ) from exc


def _check_header(where: Path, wanted: str, wasm: bytes) -> None:
    # Bytes 4..6 are the binary version and 6..8 the layer: 0 = core module, 1 = component.
    if len(wasm) < 8 or wasm[:4] != _MAGIC:
        raise ComponentLoadError(
            f"{where}: cannot load as {wanted}: the file is corrupt"
            f" (no WebAssembly header: starts with {wasm[:8]!r})"
        )
    layer = int.from_bytes(wasm[6:8], "little")
    if layer == _CORE_LAYER:
        raise ComponentLoadError(
            f"{where}: cannot load as {wanted}: it is a core WebAssembly module, not a"
            " component (missing the component layer; wrap it with"
            " `wasm-tools component new`)"
        )
    if layer != _COMPONENT_LAYER:
        raise ComponentLoadError(
            f"{where}: cannot load as {wanted}: the file is corrupt"
            f" (unknown WebAssembly layer {layer})"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
