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

The cache is bounded: after each write, the least recently used entries
(a hit refreshes an entry's modification time) are removed until the whole
cache, every engine fingerprint included, fits in ``$DATAFLARE_CACHE_MAX_MB``
megabytes (default 2048). The entry just written is never removed, so one
oversized component still caches. Another process may remove an entry this
one is about to read: that read fails and the component is recompiled.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from wasmtime.component import Component

from dataflare.compile_notice import announce_compile
from dataflare.runtime.engine import EngineConfig, fingerprint, get_engine

__all__ = ["CacheStats", "CompileCache", "cache_dir", "cache_max_bytes", "default_cache"]

_log = logging.getLogger(__name__)
_DIGEST_CHARS = 32
_SUFFIX = ".cwasm"
_DEFAULT_MAX_MB = 2048


def cache_max_bytes() -> int:
    """The cache's size bound: ``$DATAFLARE_CACHE_MAX_MB`` megabytes, default 2048.

    A value that is not a whole number is logged as a warning and the default
    used: a cache setting must not fail a load.
    """
    configured = os.environ.get("DATAFLARE_CACHE_MAX_MB", "").strip()
    if configured.isdigit():
        return int(configured) << 20
    if configured:
        _log.warning(
            "DATAFLARE_CACHE_MAX_MB must be a whole number of megabytes, got %r; using %d",
            configured,
            _DEFAULT_MAX_MB,
        )
    return _DEFAULT_MAX_MB << 20


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
    kept: int = 0
    """Components found in memory (`CompileCache.remember`): neither compiled nor read."""
    discarded: int = 0
    write_failures: int = 0


class CompileCache:
    """Compile components through an on-disk cache of wasmtime artifacts."""

    def __init__(self, directory: Path | None = None, max_bytes: int | None = None) -> None:
        self._directory = directory
        self._max_bytes = max_bytes
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self.remember = False
        """True: keep compiled components in memory too (a Dask worker loads them per task)."""
        self._memory: dict[tuple[str, str], Component] = {}

    @property
    def directory(self) -> Path:
        """The cache root (resolved from the environment on each use if not given)."""
        return self._directory if self._directory is not None else cache_dir()

    @property
    def max_bytes(self) -> int:
        """The size bound (resolved from the environment on each use if not given)."""
        return self._max_bytes if self._max_bytes is not None else cache_max_bytes()

    def entries(self, wasm: bytes, config: EngineConfig) -> list[Path]:
        """Existing cache files for these component bytes under `config`."""
        key = hashlib.sha256(wasm).hexdigest()
        return self._candidates(self.directory / fingerprint(config), key)

    def compile(self, wasm: bytes, config: EngineConfig, *, name: str = "component") -> Component:
        """The compiled component for `wasm`, from the cache when possible.

        On a miss, `name` is announced (`dataflare.compile_notice`: the CLI
        prints one line, library use stays silent). Raises
        `wasmtime.WasmtimeError` only when `wasm` itself cannot be compiled;
        cache problems are logged and worked around.
        """
        engine = get_engine(config)
        folder = self.directory / fingerprint(config)
        key = hashlib.sha256(wasm).hexdigest()
        kept = self._memory.get((folder.name, key))
        if kept is not None:
            self._count("kept")
            return kept
        component = self._load_or_compile(engine, folder, key, wasm, name)
        if self.remember:
            self._memory[(folder.name, key)] = component
        return component

    def _load_or_compile(
        self, engine: wasmtime.Engine, folder: Path, key: str, wasm: bytes, name: str
    ) -> Component:
        for entry in self._candidates(folder, key):
            component = self._load_entry(engine, entry)
            if component is not None:
                self._count("hits")
                return component
        self._count("misses")
        announce_compile(name, len(wasm))
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
            component = Component.deserialize_file(engine, str(entry))
        except wasmtime.WasmtimeError as exc:
            # e.g. made by another wasmtime build with the same version string
            self._discard(entry, f"wasmtime rejected it: {exc}")
            return None
        with contextlib.suppress(OSError):  # recency for eviction; a failure costs nothing
            os.utime(entry)
        return component

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
                entry = folder / f"{key}-{digest}{_SUFFIX}"
                os.replace(tmp, entry)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, wasmtime.WasmtimeError) as exc:
            self._count("write_failures")
            _log.warning("cannot write compile cache entry in %s: %s", folder, exc)
            return
        self.evict(keep=entry)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove least recently used entries until the cache fits `max_bytes`.

        Returns the removed entries. `keep` is never removed.
        """
        entries: list[tuple[float, int, Path]] = []
        for entry in self.directory.glob(f"*/*{_SUFFIX}"):
            try:
                st = entry.stat()
            except OSError:
                continue  # removed meanwhile
            entries.append((st.st_mtime, st.st_size, entry))
        limit = self.max_bytes  # read once: a bad setting warns once, not per entry
        total = sum(size for _, size, _ in entries)
        removed = []
        for _, size, entry in sorted(entries, key=lambda e: (e[0], e[2])):
            if total <= limit:
                break
            if entry == keep:
                continue
            try:
                entry.unlink()
            except FileNotFoundError:
                pass  # another process evicted it
            except OSError as exc:
                _log.warning("cannot evict compile cache entry %s: %s", entry, exc)
                continue
            total -= size
            removed.append(entry)
        if removed:
            _log.info(
                "compile cache: evicted %d least recently used entries to stay under %d MB",
                len(removed),
                limit >> 20,
            )
        return removed

    def _count(self, counter: str) -> None:
        with self._lock:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)


_DEFAULT = CompileCache()


def default_cache() -> CompileCache:
    """The process-wide cache rooted at `cache_dir()`."""
    return _DEFAULT
