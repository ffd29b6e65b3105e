"""The pipeline each Dask task runs: the user's file, changed only where a partition must differ.

A task gets the pipeline as the mapping ``yaml.safe_load`` gives, rebuilt
from the original with:

* one source, its parameters overridden by its partition's
  (`dataflare.pipeline.partitions`); when the pipeline writes to a SQL sink,
  a file source is told to keep positions (``resume: true``), so a retried
  task continues where the killed one committed and the sink gets every
  row once (otherwise a retry starts its partition over: nothing it wrote
  is kept, as file sinks are rewritten whole);
* file sinks (``jsonl``, ``csv``, dead-letter ones too) writing
  ``NAME.part-00000.EXT``, one file per partition;
* its own state file, so SQL sinks keep one position per partition (their
  scope is the state file) in the same transaction as the rows;
* WASM ``plugin_path``s pointing at the worker's copy of each component.

Everything else (limits, grants, ``on_error``, ``workers``) is the file's.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "FILE_TYPES",
    "Raw",
    "aggregate_input",
    "entry_params",
    "entry_type",
    "part_path",
    "partition_pipeline",
    "with_components",
]

Raw = dict[str, Any]
"""A pipeline file's content as ``yaml.safe_load`` gives it."""

FILE_TYPES = frozenset({"jsonl", "csv"})
"""Connectors that read or write files: their sinks write one part file per partition."""


def entry_type(entry: Mapping[str, Any]) -> str:
    """The connector or plugin name of a stage entry (``type``, or ``plugin_name``)."""
    kind = str(entry.get("type", ""))
    if kind == "plugin":
        return str((entry.get("config") or {}).get("plugin_name", ""))
    return kind


def entry_params(entry: dict[str, Any]) -> dict[str, Any]:
    """The mutable parameter map of a stage entry, flat or under ``params``."""
    config: dict[str, Any] = entry.setdefault("config", {})
    if entry.get("type") == "plugin" or "params" in config:
        params: dict[str, Any] = config.setdefault("params", {})
        return params
    return config


def part_path(path: str, index: int) -> str:
    """``out.jsonl`` -> ``out.part-00003.jsonl`` (the suffix stays last, for tools)."""
    where = Path(path)
    return str(where.with_name(f"{where.stem}.part-{index:05d}{where.suffix}"))


def _entries(raw: Raw, section: str) -> Iterator[dict[str, Any]]:
    yield from raw.get(section) or []


def partition_pipeline(
    raw: Raw,
    *,
    source: str,
    overrides: Mapping[str, str],
    index: int,
    state: Path,
    positions: bool = False,
) -> Raw:
    """The pipeline of partition `index`: source `source` alone with `overrides`.

    `positions`: a file source keeps positions (``resume: true``), which
    costs a commit per batch; wanted where a SQL sink must not get a
    retried batch twice.
    """
    derived = copy.deepcopy(raw)
    derived["state"] = str(state)
    derived["sources"] = [e for e in _entries(derived, "sources") if e.get("id") == source]
    for entry in derived["sources"]:
        params = entry_params(entry)
        params.update(overrides)
        if positions and entry_type(entry) in FILE_TYPES:
            params["resume"] = "true"
    for entry in _entries(derived, "sinks"):
        if entry_type(entry) in FILE_TYPES:
            params = entry_params(entry)
            params["path"] = part_path(str(params["path"]), index)
            params["mode"] = "overwrite"
    return derived


def aggregate_input(raw: Raw, *, aggregate: str, path: str, dead_letters: set[str]) -> Raw:
    """`raw` cut before `aggregate`: what reaches it is written to `path` as record envelopes.

    For an aggregate that cannot merge: each partition writes its part, and
    one final task folds them all (`after_aggregate`).
    """
    derived = copy.deepcopy(raw)
    processors = list(_entries(derived, "processors"))
    cut = next(n for n, e in enumerate(processors) if e.get("id") == aggregate)
    derived["processors"] = processors[:cut]
    kept = [e for e in _entries(derived, "sinks") if e.get("id") in dead_letters]
    collect: dict[str, Any] = {"id": f"{aggregate}.input", "type": "jsonl"}
    collect["config"] = {"path": path, "format": "record", "mode": "overwrite"}
    derived["sinks"] = [collect, *kept]
    return derived


def after_aggregate(raw: Raw, *, aggregate: str, inputs: str, state: Path) -> Raw:
    """`raw` from `aggregate` on, reading what every partition wrote for it (glob `inputs`)."""
    derived = copy.deepcopy(raw)
    derived["state"] = str(state)
    processors = list(_entries(derived, "processors"))
    cut = next(n for n, e in enumerate(processors) if e.get("id") == aggregate)
    derived["processors"] = processors[cut:]
    read: dict[str, Any] = {"id": f"{aggregate}.input", "type": "jsonl"}
    read["config"] = {"path": inputs, "format": "record"}
    derived["sources"] = [read]
    return derived


def with_components(raw: Raw, paths: Mapping[str, str]) -> Raw:
    """`raw` with each WASM stage named in `paths` loading its component from there."""
    derived = copy.deepcopy(raw)
    for section in ("sources", "processors", "sinks"):
        for entry in _entries(derived, section):
            if entry.get("id") in paths:
                entry.setdefault("config", {})["plugin_path"] = paths[entry["id"]]
    return derived
