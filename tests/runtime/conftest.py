"""Components shared by the runtime tests, built once per session."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dataflare.model import PluginKind
from dataflare.runtime import CompileCache, EngineConfig, LoadedComponent, load_component
from dataflare.runtime.instance import PluginInstance, RawExports

from runtime.builders import (
    FIXTURES,
    ROOT,
    WIT_0_2,
    core_module,
    dummy_component,
    probe_component,
    wit_copy,
)

KINDS = ("filter", "transform", "aggregate", "source", "sink")


@pytest.fixture(scope="session")
def components(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Dummy components: one per world, odd worlds, other versions, a core module."""
    root = tmp_path_factory.mktemp("components")
    ours = wit_copy(root / "wit", extra=FIXTURES / "odd-worlds.wit")
    built = {kind: dummy_component(ours, kind, root / f"{kind}.wasm") for kind in KINDS}
    for world in ("filter-no-batch", "filter-extra-import", "no-kind"):
        built[world] = dummy_component(ours, world, root / f"{world}.wasm")
    for version in ("0.3.0", "9.0.0", "0.1.7"):
        wit = wit_copy(root / f"wit-{version}", version=version)
        built[f"filter@{version}"] = dummy_component(wit, "filter", root / f"filter-{version}.wasm")
    for kind in KINDS:  # the same worlds at 0.2.0, from wit/ itself
        built[f"{kind}@0.2.0"] = dummy_component(WIT_0_2, kind, root / f"{kind}-0.2.0.wasm")
    wit = wit_copy(root / "wit-0.2.5", version="0.2.5", source=WIT_0_2, source_version="0.2.0")
    built["filter@0.2.5"] = dummy_component(wit, "filter", root / "filter-0.2.5.wasm")
    built["core"] = core_module(root / "core.wasm")
    return built


@pytest.fixture(scope="session")
def probe() -> Path:
    """The componentize-py probe filter guest."""
    return probe_component()


@pytest.fixture(scope="session")
def shared_cache() -> CompileCache:
    """A compile cache that survives sessions (under build/), so the probe compiles once."""
    return CompileCache(ROOT / "build" / "test-cache")


@pytest.fixture(scope="session")
def probe_loaded(probe: Path, shared_cache: CompileCache) -> LoadedComponent:
    """The probe, loaded on the default engine (no fuel, no epochs)."""
    return load_component(probe, PluginKind.FILTER, cache=shared_cache)


@pytest.fixture(scope="session")
def probe_limited(probe: Path, shared_cache: CompileCache) -> LoadedComponent:
    """The probe, loaded on an engine that counts fuel and epochs."""
    config = EngineConfig(fuel=True, epoch=True)
    return load_component(probe, PluginKind.FILTER, cache=shared_cache, engine_config=config)


def record(value: bytes) -> SimpleNamespace:
    """A WIT `record` argument in wasmtime-py's dynamic form (attribute object)."""
    return SimpleNamespace(key=None, value=value, timestamp=None, metadata=[])


def run_filter(instance: PluginInstance[RawExports], value: bytes) -> Any:
    """Call the probe's `filter` export with a record holding `value`."""
    return instance.call(lambda world: world("filter", record(value)))
