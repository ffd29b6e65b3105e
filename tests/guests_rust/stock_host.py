"""Calling guest components through wasmtime-py's stock component API.

These tests check the guests themselves (their canonical-ABI data layout and
their behaviour), so they deliberately bypass DataFlare's runtime and codec:
a layout bug in a guest must not be masked, or caused, by host code.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dataflare.errors import PluginError, plugin_error
from dataflare.model import Record
from wasmtime import Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Linker, Variant

__all__ = ["StockGuest", "from_wit", "outcome", "to_wit"]

ENGINE = Engine()
LOG_INTERFACES = ("dataflare:plugin/log@0.1.0", "dataflare:plugin/log@0.2.0")
"""Both versions are linked, so 0.1 and 0.2 components instantiate alike."""


CACHE = Path(__file__).resolve().parents[2] / "build" / "stock-cache"


@functools.cache
def _component(path: Path, mtime_ns: int) -> Component:
    # Keyed by mtime so a rebuilt guest is recompiled within one session.
    # A JS component takes ~10-25 s to compile, so compiled code is also kept
    # on disk, keyed by the component's hash and the wasmtime version.
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    cached = CACHE / f"{path.stem}-{digest}-wasmtime{version('wasmtime')}.cwasm"
    if cached.is_file():
        try:
            return Component.deserialize_file(ENGINE, str(cached))
        except WasmtimeError:
            cached.unlink(missing_ok=True)  # stale or corrupt: compile again
    component = Component.from_file(ENGINE, str(path))
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(component.serialize())
    tmp.replace(cached)
    return component


class StockGuest:
    """One fresh instance of a guest component, with WASI p2 and the `log` import linked."""

    def __init__(
        self,
        path: Path,
        *,
        preopen: tuple[Path, str] | None = None,
        memory_limit: int | None = None,
    ) -> None:
        self.logs: list[tuple[str, str]] = []
        linker = Linker(ENGINE)
        linker.add_wasip2()
        with linker.root() as root:
            for name in LOG_INTERFACES:
                with root.add_instance(name) as log:
                    log.add_func("log", self._log)
        self.store = Store(ENGINE)
        wasi = WasiConfig()  # deny by default: no env, args, files
        if preopen is not None:
            wasi.preopen_dir(str(preopen[0]), preopen[1])
        # Without set_wasi the first WASI call aborts the whole process.
        self.store.set_wasi(wasi)
        if memory_limit is not None:
            self.store.set_limits(memory_size=memory_limit)
        component = _component(path, path.stat().st_mtime_ns)
        self.instance = linker.instantiate(self.store, component)

    def _log(self, _store: Store, level: str, message: str) -> None:
        self.logs.append((level, message))

    def raw(self, name: str, *args: Any) -> Any:
        """Call export `name` and return wasmtime's value as is."""
        func = self.instance.get_func(self.store, name)
        assert func is not None, f"no export {name!r}"
        return func(self.store, *args)

    def call(self, name: str, *args: Any) -> Any:
        """Call an export returning `result<T, plugin-error>`: T, or raise the PluginError."""
        result = outcome(self.raw(name, *args))
        if isinstance(result, PluginError):
            raise result
        return result

    def configure(self, params: dict[str, str]) -> None:
        """`configure` with `params` as (name, value) pairs."""
        self.call("configure", list(params.items()))


def outcome(value: Any) -> Any:
    """A `plugin-error` variant as the host's PluginError; anything else unchanged."""
    if isinstance(value, Variant):
        return plugin_error(value.tag, value.payload)
    return value


def to_wit(
    record: Record | tuple[bytes | None, bytes, int | None, Sequence[tuple[str, str]]],
) -> Any:
    """A record as the attribute object wasmtime-py lowers (pairs keep order and repeats)."""
    if isinstance(record, Record):
        return SimpleNamespace(
            key=record.key,
            value=record.value,
            timestamp=record.timestamp,
            metadata=list(record.metadata.items()),
        )
    key, value, timestamp, metadata = record
    return SimpleNamespace(key=key, value=value, timestamp=timestamp, metadata=list(metadata))


def raw_fields(record: Any) -> tuple[Any, ...]:
    """(key, value, timestamp, metadata pairs) of a lifted record, for exact comparisons."""
    return (record.key, record.value, record.timestamp, [tuple(p) for p in record.metadata])


def from_wit(record: Any) -> Record:
    """A lifted `record` as the host model's Record."""
    return Record(
        value=record.value,
        key=record.key,
        timestamp=record.timestamp,
        metadata=dict(record.metadata),
    )


def outcomes(values: Iterable[Any]) -> list[Any]:
    """`outcome` over a batch result."""
    return [outcome(v) for v in values]
