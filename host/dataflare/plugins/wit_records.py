"""The one place a model `Record` becomes a WIT record and back, and WIT errors become ours.

Also what a batch call needs at that boundary: `screened` fails alone a
record whose metadata cannot be lowered, and `unwrap`/`outcome` turn a
WIT `result` into a value or a `PluginError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dataflare._wit import types as wit2
from dataflare._wit_v0_1 import types as wit
from dataflare.abi import rt
from dataflare.errors import PluginError, plugin_error
from dataflare.model import ParamInfo, PluginInfo, PluginKind, Record

__all__ = [
    "from_wit_record",
    "plugin_info",
    "record_lowering",
    "screened",
    "to_plugin_error",
    "to_wit_record",
    "unencodable",
    "unwrap",
    "value_or_error",
]

T = TypeVar("T")

_ERROR_KINDS: dict[type, str] = {
    wit.PluginErrorProcessing: "processing",
    wit.PluginErrorConfiguration: "configuration",
    wit.PluginErrorIo: "io",
    wit.PluginErrorSerialization: "serialization",
    wit2.PluginErrorProcessing: "processing",
    wit2.PluginErrorConfiguration: "configuration",
    wit2.PluginErrorIo: "io",
    wit2.PluginErrorSerialization: "serialization",
}


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot descriptors' setters of a frozen, slotted dataclass without `__post_init__`.

    A frozen dataclass's `__init__` goes through `object.__setattr__` once per
    field, about half of what building a record costs; the pipeline builds
    two per record per WASM stage. Checked here so a regenerated class that
    validates in `__post_init__` is never bypassed.
    """
    fields = tuple(f.name for f in dataclasses.fields(cls))
    assert fields == names and not hasattr(cls, "__post_init__"), cls
    return tuple(getattr(cls, name).__set__ for name in names)


_new = object.__new__
_MODEL_SET = _slot_setters(Record, ("value", "key", "timestamp", "metadata"))
R = TypeVar("R")


def record_lowering(cls: type[R]) -> Callable[[Record], R]:
    """A function making the generated WIT record `cls` (one per package version) of a model record.

    The WIT `record` type is the same in 0.1.0 and 0.2.0, but each version's
    bindings have their own class, and lowering checks the class.
    """
    set_key, set_value, set_timestamp, set_metadata = _slot_setters(
        cls, ("key", "value", "timestamp", "metadata")
    )

    def lower(record: Record) -> R:
        out = _new(cls)
        set_key(out, record.key)
        set_value(out, record.value)
        set_timestamp(out, record.timestamp)
        metadata = record.metadata
        set_metadata(out, list(metadata.items()) if metadata else [])
        return out

    lower.__doc__ = f"A model record as the generated WIT `{cls.__module__}.{cls.__name__}`."
    return lower


to_wit_record = record_lowering(wit.Record)
"""A model record as the generated 0.1 WIT record (metadata as ordered pairs)."""


def from_wit_record(record: wit.Record | wit2.Record) -> Record:
    """A WIT record as a model record; a repeated metadata name keeps its last value."""
    set_value, set_key, set_timestamp, set_metadata = _MODEL_SET
    out = _new(Record)
    set_value(out, record.value)
    set_key(out, record.key)
    set_timestamp(out, record.timestamp)
    metadata = record.metadata
    set_metadata(out, dict(metadata) if metadata else {})
    return out


def unencodable(record: Record) -> PluginError | None:
    """A serialization error when `record`'s metadata cannot be UTF-8 (lone surrogates)."""
    for name, value in record.metadata.items():
        for text in (name, value):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                return plugin_error(
                    "serialization",
                    f"metadata {name!r} is not valid UTF-8 ({exc.reason}); a WIT string "
                    "cannot carry it",
                )
    return None


def screened(
    records: Sequence[Record], call: Callable[[Sequence[Record]], list[T]]
) -> list[T | PluginError]:
    """`call(records)`; if a record cannot be lowered, only that record fails.

    Checking every string up front would tax every batch, so the check runs
    only after the lowering refused one (nothing reached the guest then).
    """
    try:
        return list(call(records))
    except UnicodeEncodeError:
        pass
    bad = {i: e for i, r in enumerate(records) if (e := unencodable(r)) is not None}
    good = [r for i, r in enumerate(records) if i not in bad]
    outcomes = iter(call(good) if good else [])
    return [bad[i] if i in bad else next(outcomes) for i in range(len(records))]


def to_plugin_error(err: wit.PluginError | wit2.PluginError) -> PluginError:
    """The host error for a WIT `plugin-error`."""
    return plugin_error(_ERROR_KINDS[type(err)], err.value)


def unwrap(result: rt.Ok[T] | rt.Err[wit.PluginError] | rt.Err[wit2.PluginError]) -> T:
    """The value of an `Ok`; an `Err` is raised as its `PluginError`."""
    if isinstance(result, rt.Err):
        raise to_plugin_error(result.value)
    return result.value


def value_or_error(
    result: rt.Ok[T] | rt.Err[wit.PluginError] | rt.Err[wit2.PluginError],
) -> T | PluginError:
    """The value of an `Ok`, or an `Err`'s `PluginError` (one record's outcome)."""
    return to_plugin_error(result.value) if isinstance(result, rt.Err) else result.value


def plugin_info(info: wit.PluginInfo | wit2.PluginInfo) -> PluginInfo:
    """A WIT `plugin-info` as the host model's `PluginInfo`."""
    return PluginInfo(
        name=info.name,
        version=info.version,
        kind=PluginKind(info.kind.value),
        description=info.description,
        params=tuple(ParamInfo(p.name, p.description, p.required, p.default) for p in info.params),
    )
