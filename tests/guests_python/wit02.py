"""Calling 0.2 components straight through the generated `dataflare:plugin@0.2.0` bindings.

The host's 0.2 adapters are written apart from the guest SDK, so these tests
generate the bindings for `wit/` into a temporary package and instantiate
components with them, holding their own reference encoding of model
records into columnar batches (and back), written from the WIT's docs.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import wasmtime
from dataflare.abi import rt
from dataflare.errors import PluginError, plugin_error
from dataflare.model import Record
from dataflare.runtime.cache import default_cache
from dataflare.runtime.engine import DEFAULT_CONFIG, get_engine
from dataflare.runtime.sandbox import new_store
from support.guests import ROOT
from wasmtime.component import Linker

PACKAGE = "dataflare_wit02_under_test"


def generate(folder: Path) -> ModuleType:
    """Generate the 0.2 bindings into `folder/PACKAGE` and import the package."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dataflare",
            "bindgen",
            str(ROOT / "wit"),
            "-o",
            str(folder / PACKAGE),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    return importlib.import_module(PACKAGE)


class Logs:
    """Serves the `log` import, keeping the lines."""

    def __init__(self) -> None:
        self.lines: list[tuple[Any, str]] = []

    def log(self, level: Any, message: str) -> None:
        self.lines.append((level, message))


@contextmanager
def opened(path: Path, world: ModuleType, cls: str) -> Iterator[Any]:
    """An instance of the component at `path`, wrapped in the generated world class `cls`."""
    engine = get_engine(DEFAULT_CONFIG)
    component = default_cache().compile(path.read_bytes(), DEFAULT_CONFIG)
    linker = Linker(engine)
    linker.add_wasip2()
    world.add_imports_to_linker(linker, log=Logs())
    store = new_store(engine, wasmtime.WasiConfig())
    instance = linker.instantiate(store, component)
    yield getattr(world, cls)(store, instance)


def column(t: ModuleType, items: Sequence[bytes | None]) -> Any:
    """A `bytes-column`: UTF-8 items in `text`, others in `binary`, None in `absent`."""
    text, ends, binary, absent, end = [], [], [], [], 0
    for i, item in enumerate(items):
        if item is None:
            absent.append(i)
        else:
            try:
                piece = item.decode("utf-8")
            except UnicodeDecodeError:
                binary.append((i, item))
            else:
                text.append(piece)
                end += len(item)
        ends.append(end)
    return t.BytesColumn("".join(text), ends, binary, absent)


def string_column(t: ModuleType, items: Sequence[str]) -> Any:
    """A `string-column`: the items joined, with the UTF-8 byte offset where each ends."""
    ends, end = [], 0
    for item in items:
        end += len(item.encode("utf-8"))
        ends.append(end)
    return t.StringColumn("".join(items), ends)


def metadata_column(t: ModuleType, records: Sequence[Record]) -> Any:
    """Every record's metadata pairs as a `metadata-column`, by record, then in order."""
    pairs = [(i, k, v) for i, r in enumerate(records) for k, v in r.metadata.items()]
    return t.MetadataColumn(
        [i for i, _, _ in pairs],
        string_column(t, [k for _, k, _ in pairs]),
        string_column(t, [v for _, _, v in pairs]),
    )


def to_batch(t: ModuleType, records: Sequence[Record]) -> Any:
    """Model records as a WIT `batch`."""
    keys = [r.key for r in records]
    times = [r.timestamp for r in records]
    return t.Batch(
        column(t, [r.value for r in records]),
        column(t, keys) if any(k is not None for k in keys) else None,
        t.TimestampColumn(
            [0 if x is None else x for x in times], [i for i, x in enumerate(times) if x is None]
        )
        if any(x is not None for x in times)
        else None,
        metadata_column(t, records),
    )


def wit_records(t: ModuleType, records: Sequence[Record]) -> list[Any]:
    """Model records as WIT `record`s (for the per-record exports)."""
    return [t.Record(r.key, r.value, r.timestamp, list(r.metadata.items())) for r in records]


def model_record(record: Any) -> Record:
    """A WIT `record` as a model record."""
    return Record(record.value, record.key, record.timestamp, dict(record.metadata))


def items(col: Any, n: int) -> list[bytes | None]:
    """A `bytes-column` back as one item per record, checking its rules."""
    data = col.text.encode("utf-8")
    assert len(col.ends) == n and (not n or col.ends[-1] == len(data))
    assert col.ends == sorted(col.ends)
    starts = [0, *col.ends[:-1]] if n else []
    out: list[bytes | None] = [data[s:e] for s, e in zip(starts, col.ends, strict=True)]
    for part in out:
        assert part is not None
        part.decode("utf-8")  # every item of `text` is UTF-8 on its own
    for i, raw in col.binary:
        assert out[i] == b""
        out[i] = raw
    for i in col.absent:
        assert out[i] == b""
        out[i] = None
    return out


def strings(col: Any, k: int) -> list[str]:
    """A `string-column` back as its k items, checking its rules."""
    data = col.text.encode("utf-8")
    assert len(col.ends) == k and (col.ends[-1] == len(data) if k else not data)
    assert col.ends == sorted(col.ends)
    starts = [0, *col.ends[:-1]] if k else []
    return [data[s:e].decode("utf-8") for s, e in zip(starts, col.ends, strict=True)]


def from_batch(batch: Any) -> list[Record]:
    """A WIT `batch` back as model records."""
    n = len(batch.values.ends)
    values = items(batch.values, n)
    keys = items(batch.keys, n) if batch.keys is not None else [None] * n
    times: list[int | None] = [None] * n
    if batch.timestamps is not None:
        times = list(batch.timestamps.values)
        for i in batch.timestamps.absent:
            times[i] = None
    metadata: list[dict[str, str]] = [{} for _ in range(n)]
    owners = batch.metadata.records
    assert owners == sorted(owners) and all(i < n for i in owners)
    names = strings(batch.metadata.names, len(owners))
    meta_values = strings(batch.metadata.values, len(owners))
    for i, name, value in zip(owners, names, meta_values, strict=True):
        metadata[i][name] = value
    out = []
    for v, k, ts, md in zip(values, keys, times, metadata, strict=True):
        assert v is not None
        out.append(Record(v, key=k, timestamp=ts, metadata=md))
    return out


def error(wit_error: Any) -> PluginError:
    """A WIT `plugin-error` as the host's exception."""
    kind = type(wit_error).__name__.removeprefix("PluginError").lstrip("_").lower()
    return plugin_error(kind, wit_error.value)


def kept(keep: bytes, n: int) -> list[bool]:
    """The LSB-first bitmap as one bool per record."""
    assert len(keep) == (n + 7) // 8
    return [bool(keep[i // 8] >> (i % 8) & 1) for i in range(n)]


def filter_outcomes(outcome: Any, n: int) -> list[bool | PluginError]:
    """A `filter-outcome` as one bool or error per record."""
    out: list[bool | PluginError] = list(kept(outcome.keep, n))
    for e in outcome.errors:
        out[e.index] = error(e.error)
    return out


def transform_outcomes(outcome: Any, n: int) -> list[Record | PluginError]:
    """A `transform-outcome` as one record or error per record; placeholders must be empty."""
    records: list[Record | PluginError] = list(from_batch(outcome.records))
    assert len(records) == n
    for e in outcome.errors:
        assert records[e.index] == Record(b"")
        records[e.index] = error(e.error)
    return records


def sparse(errors: Any, n: int) -> list[PluginError | None]:
    """Sparse record errors as one error or None per record."""
    out: list[PluginError | None] = [None] * n
    indices = [e.index for e in errors]
    assert indices == sorted(set(indices)) and all(i < n for i in indices)
    for e in errors:
        out[e.index] = error(e.error)
    return out


def unwrap(result: Any) -> Any:
    """The value of an `Ok`, or the `Err`'s plugin error raised."""
    if isinstance(result, rt.Err):
        raise error(result.value)
    assert isinstance(result, rt.Ok)
    return result.value
