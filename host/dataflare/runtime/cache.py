"""On-disk cache of compiled components.

Compiling a componentize-py component takes seconds; mapping a compiled
artifact back in takes milliseconds. Entries live at::

    <cache dir>/<engine fingerprint>/<sha256 of component>-<artifact digest>.cwasm

The cache dir is ``$DATAFLARE_CACHE_DIR``, else ``~/.cache/dataflare``.
wasmtime trusts a deserialized artifact completely (it is machine code), so
the artifact's own digest is in its file name and is checked before every
load: a truncated or altered entry is discarded and the component is
recompiled. Entries are written to a temporary file and renamed into place,
so readers never see a partial file. A cache that cannot be read or written
only costs time; it never fails a load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from wasmtime.component import Component

from dataflare.runtime.engine import EngineConfig, fingerprint, get_engine

__all__ = ["CacheStats", "CompileCache", "cache_dir", "default_cache"]

_log = logging.getLogger(__name__)
_DIGEST_CHARS = 32
_SUFFIX = ".cwasm"


def cache_dir() -> Path:
    """Where compiled components go: ``$DATAFLARE_CACHE_DIR`` or ``~/.cache/dataflare``."""
    configured = os.environ.get("DATAFLARE_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "dataflare"


@dataclass(slots=True)
class CacheStats:
    """Counters since the cache object was made (for tests and diagnostics)."""

    hits: int = 0
    misses: int = 0
    discarded: int = 0
    write_failures: int = 0


class CompileCache:
    """Compile components through an on-disk cache of wasmtime artifacts."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self.stats = CacheStats()
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        """The cache root (resolved from the environment on each use if not given)."""
        return self._directory if self._directory is not None else cache_dir()

    def entries(self, wasm: bytes, config: EngineConfig) -> list[Path]:
        """Existing cache files for these component bytes under `config`."""
        key = hashlib.sha256(wasm).hexdigest()
        return self._candidates(self.directory / fingerprint(config), key)

    def compile(self, wasm: bytes, config: EngineConfig) -> Component:
        """The compiled component for `wasm`, from the cache when possible.

        Raises `wasmtime.WasmtimeError` only when `wasm` itself cannot be
        compiled; cache problems are logged and worked around.
        """
        engine = get_engine(config)
        folder = self.directory / fingerprint(config)
        key = hashlib.sha256(wasm).hexdigest()
        for entry in self._candidates(folder, key):
            component = self._load_entry(engine, entry)
            if component is not None:
                self._count("hits")
                return component
        self._count("misses")
        component = Component(engine, wasm)
        self._store(folder, key, component)
        return component

    def _candidates(self, folder: Path, key: str) -> list[Path]:
        try:
            return sorted(folder.glob(f"{key}-*{_SUFFIX}"))
        except OSError:
            return []

    def _load_entry(self, engine: wasmtime.Engine, entry: Path) -> Component | None:
        expected = entry.name[: -len(_SUFFIX)].rpartition("-")[2]
        try:
            with entry.open("rb") as handle:
                actual = hashlib.file_digest(handle, "sha256").hexdigest()[:_DIGEST_CHARS]
        except OSError as exc:
            _log.warning("cannot read compile cache entry %s: %s", entry, exc)
            return None
        if actual != expected:
            self._discard(entry, "its content does not match its digest")
            return None
        try:
            return Component.deserialize_file(engine, str(entry))
        except wasmtime.WasmtimeError as exc:
            # e.g. made by another wasmtime build with the same version string
            self._discard(entry, f"wasmtime rejected it: {exc}")
            return None

    def _discard(self, entry: Path, why: str) -> None:
        _log.warning("discarding compile cache entry %s: %s", entry, why)
        self._count("discarded")
        try:
            entry.unlink(missing_ok=True)
        except OSError as exc:
            _log.warning("cannot remove %s: %s", entry, exc)

    def _store(self, folder: Path, key: str, component: Component) -> None:
        try:
            artifact = bytes(component.serialize())
            digest = hashlib.sha256(artifact).hexdigest()[:_DIGEST_CHARS]
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(artifact)
                os.replace(tmp, folder / f"{key}-{digest}{_SUFFIX}")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, wasmtime.WasmtimeError) as exc:
            self._count("write_failures")
            _log.warning("cannot write compile cache entry in %s: %s", folder, exc)

    def _count(self, counter: str) -> None:
        with self._lock:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)


_DEFAULT = CompileCache()


def default_cache() -> CompileCache:
    """The process-wide cache rooted at `cache_dir()`."""
    return _DEFAULT
