"""The Python guest examples, built from source once per session and loaded through the adapters."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from dataflare.plugins.kinds import AnyPlugin
from dataflare.plugins.wasm import load_wasm_plugin
from support.guests import ROOT, built_guest
from support.tools import require_tool

GUESTS = {"json_filter": "filter", "mask_email": "transform", "count_sum": "aggregate"}


@pytest.fixture(scope="session")
def guest_path() -> Callable[[str], Path]:
    """`guest_path(name)` builds (if stale) and returns `build/guests/python/<name>.wasm`."""
    built: dict[str, Path] = {}

    def path(name: str) -> Path:
        if name not in built:
            built[name] = built_guest("python", name)
        return built[name]

    return path


@pytest.fixture
def open_guest(guest_path: Callable[[str], Path]) -> Iterator[Callable[[str], AnyPlugin]]:
    """`open_guest(name)`: a fresh, unconfigured adapter over the guest, closed after the test."""
    opened: list[AnyPlugin] = []

    def open_(name: str) -> AnyPlugin:
        plugin = load_wasm_plugin(guest_path(name), GUESTS[name])
        opened.append(plugin)
        return plugin

    yield open_
    for plugin in opened:
        plugin.close()


@pytest.fixture(scope="session")
def guest_import(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ModuleType]:
    """`guest_import(module)`: a guest module (the shipped SDK or an example's app) run on the host.

    The guest-side bindings componentize-py generates for the aggregate world
    (`wit_world`, whose `types` holds every WIT type) are put on `sys.path`,
    so guest code imports as it does inside a component; examples import as
    `<name>.app`.
    """
    tool = require_tool("componentize-py", "pip install componentize-py==0.25.1")
    out = tmp_path_factory.mktemp("guest_bindings")
    subprocess.run(
        [tool, "-d", str(ROOT / "wit"), "-w", "aggregate", "bindings", str(out)],
        check=True,
        capture_output=True,
    )
    guests = ROOT / "guest-examples" / "python"
    sdk = ROOT / "host" / "dataflare" / "sdk" / "python"
    sys.path[:0] = [str(out), str(sdk), str(guests)]
    importlib.invalidate_caches()
    return importlib.import_module
