"""Calling 0.2.0 guests through bindings generated from wit/ (no DataFlare adapters).

The host's 0.2 plugin adapters are separate code; these tests check the
guests themselves, so they call the typed world classes that
`dataflare bindgen` generates for `dataflare:plugin@0.2.0` directly, and
build and read columnar batches with the small reference codec below
(written from the WIT's rules, independently of the guests' Rust code).
"""

from __future__ import annotations

import functools
import importlib
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from dataflare.abi import rt
from dataflare.bindgen.generate import generate
from dataflare.errors import PluginError, plugin_error
from dataflare.model import Record
from guests_rust.stock_host import ENGINE, _component
from wasmtime import Store, WasiConfig
from wasmtime.component import Linker

__all__ = [
    "Guest02",
    "RawRecord",
    "bindings",
    "from_batch",
    "keeps",
    "plain",
    "raw_batch",
    "to_batch",
    "unwrap",
]

ROOT = Path(__file__).resolve().parents[2]
_PACKAGE = "wit02_rust_tests"


@functools.cache
def bindings() -> ModuleType:
    """The generated package for wit/ (0.2.0), generated once per session."""
    out = Path(tempfile.mkdtemp(prefix="wit02-")) / _PACKAGE
    generate(ROOT / "wit", out)
    sys.path.insert(0, str(out.parent))
    return importlib.import_module(_PACKAGE)


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def log(self, level: Any, message: str) -> None:
        self.lines.append((getattr(level, "name", str(level)).lower(), message))


class Guest02:
    """One fresh instance of a 0.2 component as its generated world class."""

    def __init__(
        self,
        path: Path,
        world: str,
        *,
        preopen: tuple[Path, str] | None = None,
        memory_limit: int | None = None,
    ) -> None:
        module = getattr(bindings(), world)
        cls = getattr(module, world.capitalize())
        self.logs = _Log()
        linker = Linker(ENGINE)
        linker.add_wasip2()
        module.add_imports_to_linker(linker, log=self.logs)
        self.store = Store(ENGINE)
        wasi = WasiConfig()
        if preopen is not None:
            wasi.preopen_dir(str(preopen[0]), preopen[1])
        self.store.set_wasi(wasi)  # without it the first WASI call aborts the process
        if memory_limit is not None:
            self.store.set_limits(memory_size=memory_limit)
        instance = linker.instantiate(self.store, _component(path, path.stat().st_mtime_ns))
        self.world = cls(self.store, instance)

    def configure(self, params: dict[str, str]) -> None:
        """`configure`, raising the plugin-error it returns."""
        unwrap(self.world.configure(list(params.items())))


def unwrap(result: Any) -> Any:
    """The Ok value of a generated result, or raise its plugin-error as PluginError."""
    if isinstance(result, rt.Err):
        raise plain(result.value)
    assert isinstance(result, rt.Ok), result
    return result.value


def plain(error: Any) -> PluginError:
    """A generated plugin-error case as the host's PluginError."""
    kind = type(error).__name__.removeprefix("PluginError").lower()
    return plugin_error(kind, error.value)


def _column(items: Sequence[bytes | None]) -> Any:
    types = bindings().types
    text = bytearray()
    ends: list[int] = []
    binary: list[tuple[int, bytes]] = []
    absent: list[int] = []
    for i, item in enumerate(items):
        if item is None:
            absent.append(i)
        else:
            try:
                item.decode("utf-8")
                text += item
            except UnicodeDecodeError:
                binary.append((i, item))
        ends.append(len(text))
    return types.BytesColumn(text.decode("utf-8"), ends, binary, absent)


RawRecord = tuple[bytes | None, bytes, int | None, Sequence[tuple[str, str]]]
"""(key, value, timestamp, metadata pairs): pairs keep order and repeats."""


def to_batch(records: Sequence[Record]) -> Any:
    """`records` as a generated `batch` (the WIT's encoding, written independently)."""
    return raw_batch([(r.key, r.value, r.timestamp, list(r.metadata.items())) for r in records])


def _strings(items: Sequence[str]) -> Any:
    """`items` as a generated `string-column` (UTF-8 byte end offsets)."""
    ends: list[int] = []
    end = 0
    for item in items:
        end += len(item.encode("utf-8"))
        ends.append(end)
    return bindings().types.StringColumn("".join(items), ends)


def _metadata(records: Sequence[RawRecord]) -> Any:
    """Every pair of `records` as a generated `metadata-column`, in record order."""
    pairs = [(i, k, v) for i, r in enumerate(records) for k, v in r[3]]
    return bindings().types.MetadataColumn(
        records=[i for i, _, _ in pairs],
        names=_strings([k for _, k, _ in pairs]),
        values=_strings([v for _, _, v in pairs]),
    )


def raw_batch(records: Sequence[RawRecord]) -> Any:
    """Raw records as a generated `batch`; keys and timestamps are `none` when unused."""
    types = bindings().types
    keys = [r[0] for r in records]
    stamps = [r[2] for r in records]
    return types.Batch(
        values=_column([r[1] for r in records]),
        keys=_column(keys) if any(k is not None for k in keys) else None,
        timestamps=types.TimestampColumn(
            [t or 0 for t in stamps], [i for i, t in enumerate(stamps) if t is None]
        )
        if any(t is not None for t in stamps)
        else None,
        metadata=_metadata(records),
    )


def _items(column: Any, n: int) -> list[bytes | None]:
    text = column.text.encode("utf-8")
    binary = dict(column.binary)
    absent = set(column.absent)
    assert len(column.ends) == n, (column.ends, n)
    out: list[bytes | None] = []
    start = 0
    for i, end in enumerate(column.ends):
        assert start <= end <= len(text), (start, end, len(text))
        span = text[start:end]
        start = end
        if i in absent or i in binary:
            assert span == b"", f"record {i} is absent or binary but has text"
        out.append(None if i in absent else binary.get(i, span))
    assert start == len(text)
    assert list(binary) == sorted(set(binary)) and sorted(absent) == list(column.absent)
    return out


def _texts(column: Any, n: int) -> list[str]:
    """The items of a generated `string-column`, checking its `n` byte offsets."""
    text = column.text.encode("utf-8")
    assert len(column.ends) == n, (column.ends, n)
    starts = [0, *column.ends][:n]
    assert all(s <= e for s, e in zip(starts, column.ends, strict=True)), column.ends
    assert (column.ends[-1] if n else 0) == len(text), (column.ends, len(text))
    # decode() raises on an end inside a character.
    return [text[s:e].decode("utf-8") for s, e in zip(starts, column.ends, strict=True)]


def from_batch(batch: Any) -> list[Record]:
    """A generated `batch` as records, checking every rule of the WIT on the way."""
    n = len(batch.values.ends)
    values = _items(batch.values, n)
    assert not batch.values.absent
    keys = _items(batch.keys, n) if batch.keys is not None else [None] * n
    stamps: list[int | None] = [None] * n
    if batch.timestamps is not None:
        assert len(batch.timestamps.values) == n
        missing = set(batch.timestamps.absent)
        stamps = [None if i in missing else t for i, t in enumerate(batch.timestamps.values)]
    metadata: list[dict[str, str]] = [{} for _ in range(n)]
    column = batch.metadata
    assert column.records == sorted(column.records)
    assert all(r < n for r in column.records), (column.records, n)
    names = _texts(column.names, len(column.records))
    texts = _texts(column.values, len(column.records))
    for r, name, value in zip(column.records, names, texts, strict=True):
        metadata[r].setdefault(name, value)
    return [
        Record(value=v or b"", key=k, timestamp=t, metadata=md)
        for v, k, t, md in zip(values, keys, stamps, metadata, strict=True)
    ]


def keeps(bitmap: bytes, n: int) -> list[bool]:
    """The filter bitmap as one bool per record (LSB first)."""
    assert len(bitmap) >= (n + 7) // 8
    return [bool(bitmap[i // 8] >> (i % 8) & 1) for i in range(n)]
