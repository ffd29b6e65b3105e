"""The Python guest examples, built from source once per session and loaded through the adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dataflare.plugins.kinds import AnyPlugin
from dataflare.plugins.wasm import load_wasm_plugin
from support.guests import built_guest

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
