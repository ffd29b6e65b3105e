"""Calling 0.2 guest components through bindings generated from wit/ for this test session.

`dataflare bindgen` turns wit/ into typed world classes; the tests import them
from a temporary package and call guests with them, without the host's
plugin adapters (written separately), so a guest is checked on its own.
"""

from __future__ import annotations

import functools
import importlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import wasmtime
from dataflare.abi import rt
from dataflare.bindgen import generate
from dataflare.errors import PluginError
from guests_js.batch02 import error_of
from guests_rust.stock_host import ENGINE, _component
from wasmtime import component as wc

__all__ = ["Guest02", "bindings", "result"]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "wit02_js_tests"


@functools.cache
def _folder() -> Path:
    # Lives as long as the test process; the folder holds only generated .py files.
    holder = tempfile.TemporaryDirectory(prefix="dataflare-wit02-")
    _folder.holder = holder  # type: ignore[attr-defined]
    return Path(holder.name)


@functools.cache
def bindings(module: str) -> ModuleType:
    """Module `module` (filter, transform, types, ...) of bindings generated from wit/."""
    folder = _folder()
    if not (folder / PACKAGE).is_dir():
        generate(ROOT / "wit", folder / PACKAGE)
        sys.path.insert(0, str(folder))
    return importlib.import_module(f"{PACKAGE}.{module}")


class _Log:
    """The `log` import: lines kept as (level name, message).

    Not the guest object itself: the host keeps import callbacks in a global
    table until wasmtime drops the store, so a callback that referred to the
    store's owner would keep both alive for good.
    """

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines

    def log(self, level: Any, message: str) -> None:
        """Remember one line."""
        self.lines.append((level.value, message))


class Guest02:
    """One fresh instance of a 0.2 component of `world`, with its `log` import recorded."""

    def __init__(self, path: Path, world: str) -> None:
        self.logs: list[tuple[str, str]] = []
        module = bindings(world)
        linker = wc.Linker(ENGINE)
        module.add_imports_to_linker(linker, log=_Log(self.logs))
        store = wasmtime.Store(ENGINE)
        instance = linker.instantiate(store, _component(path, path.stat().st_mtime_ns))
        self.world: Any = getattr(module, world.capitalize())(store, instance)

    def configure(self, params: dict[str, str]) -> None:
        """`configure`, raising the PluginError it returns."""
        outcome = result(self.world.configure(list(params.items())))
        if isinstance(outcome, PluginError):
            raise outcome


def result(value: rt.Ok[Any] | rt.Err[Any]) -> Any:
    """A WIT `result<T, plugin-error>`: T, or the PluginError (returned, not raised)."""
    if isinstance(value, rt.Err):
        return error_of(value.value)
    return value.value
