"""Base classes for native plugin authors, one per kind.

A native plugin subclasses the base for its kind, declares its parameters and
writes the single-record method; the base derives the batch form (catching
`PluginError` per record, so one bad record never fails its neighbours),
validates `configure` against the declared parameters and gives a no-op
`close`. A complete filter::

    @register("filter", "non_empty")
    class NonEmpty(FilterBase):
        def filter(self, record: Record) -> bool:
            return bool(record.value)

Parameters are read with `self.param(name)` after `configure`; unset
parameters with a declared default read as that default.

A plugin that is faster on whole columns opts into the batch API by also
writing the columnar method of its kind (`filter_columns`,
`transform_columns`, `aggregate_columns`, `write_columns`; see
`dataflare.plugins.kinds`): the executor then calls that instead, with an
Arrow batch (`dataflare.columns`). The `*ColumnsBase` classes are for plugins
written only in columns: they derive the per-record methods from it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar, TypeVar

import pyarrow as pa

from dataflare.columns import FilterResult, FoldResult, RecordError, TransformResult
from dataflare.columns import from_records as _from_records
from dataflare.columns import to_records as _to_records
from dataflare.errors import ConfigurationError, PluginError, ProcessingError
from dataflare.model import ParamInfo, PluginInfo, PluginKind, Record
from dataflare.plugins.kinds import BatchFold, SourceBatch

T = TypeVar("T")

__all__ = [
    "AggregateBase",
    "AggregateColumnsBase",
    "FilterBase",
    "FilterColumnsBase",
    "NativePlugin",
    "SinkBase",
    "SinkColumnsBase",
    "SourceBase",
    "TransformBase",
    "TransformColumnsBase",
]


class NativePlugin(ABC):
    """What every native plugin shares: description, validated config, close.

    Subclasses set `kind` (the kind bases do), and may set `name` (the
    registry fills it from `register` when absent), `version`, `description`
    (defaults to the first line of the docstring) and `params`.
    """

    kind: ClassVar[PluginKind]
    name: ClassVar[str] = ""
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = ""
    params: ClassVar[tuple[ParamInfo, ...]] = ()

    def __init__(self) -> None:
        self.config: dict[str, str] = _defaults(self.params)

    def describe(self) -> PluginInfo:
        """Name, version, kind and declared parameters, from the class attributes."""
        return PluginInfo(
            name=self._plugin_name(),
            version=self.version,
            kind=self.kind,
            description=self.description or _first_line(type(self).__doc__),
            params=self.params,
        )

    def configure(self, config: Mapping[str, str]) -> None:
        """Check `config` against `params` and keep it (defaults filled in) in `self.config`.

        Raises `ConfigurationError` naming the plugin and the parameter when a
        required one is missing, or listing the known ones for an unknown one.
        """
        known = {p.name for p in self.params}
        unknown = sorted(set(config) - known)
        if unknown:
            listed = ", ".join(sorted(known)) or "none"
            raise ConfigurationError(
                f"plugin {self._plugin_name()!r}: unknown parameter(s) "
                f"{', '.join(map(repr, unknown))}; known parameters: {listed}"
            )
        for p in self.params:
            if p.required and p.name not in config:
                raise ConfigurationError(
                    f"plugin {self._plugin_name()!r}: missing required parameter {p.name!r}"
                )
        resolved = _defaults(self.params)
        resolved.update(config)
        self.config = resolved

    def param(self, name: str) -> str:
        """The configured value of parameter `name` (or its declared default).

        Raises `ConfigurationError` when it has neither, e.g. a required
        parameter read before `configure`.
        """
        try:
            return self.config[name]
        except KeyError:
            raise ConfigurationError(
                f"plugin {self._plugin_name()!r}: parameter {name!r} is not set"
            ) from None

    def close(self) -> None:  # noqa: B027 - deliberately optional to override
        """Release nothing; override when the plugin holds resources."""

    def _plugin_name(self) -> str:
        return self.name or type(self).__name__


class FilterBase(NativePlugin):
    """A native filter: write `filter`; `filter_batch` is derived."""

    kind = PluginKind.FILTER

    @abstractmethod
    def filter(self, record: Record) -> bool:
        """True keeps the record."""
        raise NotImplementedError

    def filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        """One decision or error per record, in order."""
        out: list[bool | PluginError] = []
        for record in records:
            try:
                out.append(self.filter(record))
            except PluginError as exc:
                out.append(exc)
        return out


class TransformBase(NativePlugin):
    """A native transform: write `transform`; `transform_batch` is derived."""

    kind = PluginKind.TRANSFORM

    @abstractmethod
    def transform(self, record: Record) -> Record:
        """The new record."""
        raise NotImplementedError

    def transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        """One new record or error per record, in order."""
        out: list[Record | PluginError] = []
        for record in records:
            try:
                out.append(self.transform(record))
            except PluginError as exc:
                out.append(exc)
        return out


class AggregateBase(NativePlugin):
    """A native aggregate: write `init`, `aggregate` and `emit`; the batch fold is derived."""

    kind = PluginKind.AGGREGATE

    @abstractmethod
    def init(self) -> bytes:
        """The empty accumulator."""
        raise NotImplementedError

    @abstractmethod
    def aggregate(self, acc: bytes, record: Record) -> bytes:
        """Fold one record in; returns the new accumulator."""
        raise NotImplementedError

    def aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        """Fold records in order; a record that fails leaves the accumulator as it was."""
        outcomes: list[PluginError | None] = []
        for record in records:
            try:
                acc = self.aggregate(acc, record)
            except PluginError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return acc, outcomes

    @abstractmethod
    def emit(self, acc: bytes) -> list[Record]:
        """The records the final accumulator stands for."""
        raise NotImplementedError

    def merge(self, a: bytes, b: bytes) -> bytes:
        """One accumulator for the records of `a` then those of `b`.

        Override it so the aggregate can be folded in parts (folding each part
        and merging must emit what one fold emits); by default an aggregate
        cannot be split, and this raises `ProcessingError`.
        """
        raise ProcessingError(f"plugin {self._plugin_name()!r} cannot merge accumulators")


class SourceBase(NativePlugin):
    """A native source: write `read`; `connect` is a no-op and positions are unsupported.

    A source whose input can hold undecodable items (bad lines) overrides
    `read_batch` to return them beside the good records, so they follow the
    stage's ``on_error``; `read` then raises the first one.
    """

    kind = PluginKind.SOURCE

    def connect(self) -> None:
        """Open nothing; override when there is a resource to open."""

    @abstractmethod
    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` records; an empty list means end of stream."""
        raise NotImplementedError

    def read_batch(self, max_records: int) -> SourceBatch:
        """`read` with no failures beside it: an error from `read` fails the whole read."""
        return SourceBatch(self.read(max_records))

    def checkpoint(self) -> bytes:
        """The empty position: a source that cannot resume starts over."""
        return b""

    def restore(self, position: bytes) -> None:
        """Accept only the empty position; override to support resuming."""
        if position:
            raise ProcessingError(f"plugin {self._plugin_name()!r} cannot resume from a position")


class SinkBase(NativePlugin):
    """A native sink: write `write`; `write_batch` is derived, `connect` and `flush` no-ops."""

    kind = PluginKind.SINK

    def connect(self) -> None:
        """Open nothing; override when there is a resource to open."""

    @abstractmethod
    def write(self, record: Record) -> None:
        """Write one record."""
        raise NotImplementedError

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Write records in order; None for each success, the error for each failure."""
        out: list[PluginError | None] = []
        for record in records:
            try:
                self.write(record)
            except PluginError as exc:
                out.append(exc)
            else:
                out.append(None)
        return out

    def flush(self) -> None:
        """Nothing is buffered by default."""


def _outcome(errors: dict[int, RecordError] | Mapping[int, RecordError]) -> None:
    """Raise the error of the one record a single-record call put in a batch."""
    error = errors.get(0)
    if error is not None:
        raise error


class FilterColumnsBase(FilterBase):
    """A native filter written on whole batches: write `filter_columns`."""

    @abstractmethod
    def filter_columns(self, batch: pa.RecordBatch) -> FilterResult:
        """One keep bit per row; failed rows are false and have an error."""
        raise NotImplementedError

    def filter(self, record: Record) -> bool:
        """`filter_columns` on a batch of one."""
        result = self.filter_columns(_from_records([record]))
        _outcome(result.errors)
        return bool(result.keep[0].as_py())

    def filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        """`filter_columns` on `records`."""
        result = self.filter_columns(_from_records(records))
        keep = result.keep.to_pylist()
        return [_per_record(result.errors.get(i), bool(k)) for i, k in enumerate(keep)]


class TransformColumnsBase(TransformBase):
    """A native transform written on whole batches: write `transform_columns`."""

    @abstractmethod
    def transform_columns(self, batch: pa.RecordBatch) -> TransformResult:
        """One output row per input row; rows with an error are placeholders."""
        raise NotImplementedError

    def transform(self, record: Record) -> Record:
        """`transform_columns` on a batch of one."""
        result = self.transform_columns(_from_records([record]))
        _outcome(result.errors)
        return _to_records(result.batch)[0]

    def transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        """`transform_columns` on `records`."""
        result = self.transform_columns(_from_records(records))
        made = _to_records(result.batch)
        return [_per_record(result.errors.get(i), r) for i, r in enumerate(made)]


class AggregateColumnsBase(AggregateBase):
    """A native aggregate written on whole batches: write `aggregate_columns`."""

    @abstractmethod
    def aggregate_columns(self, acc: bytes, batch: pa.RecordBatch) -> FoldResult:
        """The new accumulator; rows with an error are left out of the fold."""
        raise NotImplementedError

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        """`aggregate_columns` on a batch of one."""
        result = self.aggregate_columns(acc, _from_records([record]))
        _outcome(result.errors)
        return result.accumulator

    def aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        """`aggregate_columns` on `records`."""
        result = self.aggregate_columns(acc, _from_records(records))
        errors = result.errors
        return result.accumulator, [_as_plugin_error(errors.get(i)) for i in range(len(records))]


class SinkColumnsBase(SinkBase):
    """A native sink written on whole batches: write `write_columns`."""

    @abstractmethod
    def write_columns(self, batch: pa.RecordBatch) -> Mapping[int, RecordError]:
        """Write the rows in order; the rows that failed, by index."""
        raise NotImplementedError

    def write(self, record: Record) -> None:
        """`write_columns` on a batch of one."""
        _outcome(self.write_columns(_from_records([record])))

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """`write_columns` on `records`."""
        errors = self.write_columns(_from_records(records))
        return [_as_plugin_error(errors.get(i)) for i in range(len(records))]


def _per_record(error: RecordError | None, value: T) -> T | PluginError:
    failed = _as_plugin_error(error)
    return value if failed is None else failed


def _as_plugin_error(error: RecordError | None) -> PluginError | None:
    """A native plugin's per-record outcome: a trap of a whole batch is not one."""
    if error is None or isinstance(error, PluginError):
        return error
    raise error


def _defaults(params: tuple[ParamInfo, ...]) -> dict[str, str]:
    return {p.name: p.default for p in params if p.default is not None}


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""
