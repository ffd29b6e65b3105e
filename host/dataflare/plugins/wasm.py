"""Adapters that make WASM components look like native plugins, and plugin openers.

`WasmFilter`, `WasmTransform`, `WasmAggregate`, `WasmSource` and `WasmSink`
satisfy the protocols in `dataflare.plugins.kinds` on top of the runtime's
`PluginInstance` and the generated bindings (`dataflare.bindings`). This is
the only module that converts between `dataflare.model.Record` and the WIT
record, and between the WIT `plugin-error` and `dataflare.errors.PluginError`.

A trap surfaces as `GuestTrap` and the runtime replaces the instance; the
adapter then replays `configure` (and `connect`, for sources and sinks, and
`restore` of the last position a source's caller checkpointed or restored) on
the fresh instance, so the next call sees a configured plugin. Other state
inside the guest (records a source read since that position, a sink's
unflushed writes) is lost with the trapped instance.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import wasmtime
import wasmtime.component

from dataflare.bindgen import rt
from dataflare.bindings import aggregate as wit_aggregate
from dataflare.bindings import filter as wit_filter
from dataflare.bindings import sink as wit_sink
from dataflare.bindings import source as wit_source
from dataflare.bindings import transform as wit_transform
from dataflare.bindings import types as wit
from dataflare.errors import PluginError, plugin_error
from dataflare.model import ParamInfo, PluginInfo, PluginKind, Record
from dataflare.plugins.kinds import AnyPlugin, BatchFold
from dataflare.plugins.registry import get, parse_kind
from dataflare.runtime import CompileCache, EngineConfig, LoadedComponent, load_component
from dataflare.runtime.capabilities import Capabilities
from dataflare.runtime.engine import DEFAULT_CONFIG
from dataflare.runtime.instance import PluginInstance
from dataflare.runtime.limits import NO_LIMITS, LimitExceeded, Limits

__all__ = [
    "WasmAggregate",
    "WasmFilter",
    "WasmPlugin",
    "WasmSink",
    "WasmSource",
    "WasmTransform",
    "from_wit_record",
    "load_wasm_plugin",
    "open_plugin",
    "to_wit_record",
]

T = TypeVar("T")


class _World(Protocol):
    """What the generated class of every world has."""

    def describe(self) -> wit.PluginInfo: ...
    def configure(self, config: wit.Config) -> rt.Ok[None] | rt.Err[wit.PluginError]: ...


class _ConnectedWorld(_World, Protocol):
    """What the generated `Source` and `Sink` classes add."""

    def connect(self) -> rt.Ok[None] | rt.Err[wit.PluginError]: ...
    def close(self) -> rt.Ok[None] | rt.Err[wit.PluginError]: ...


W = TypeVar("W", bound=_World)
C = TypeVar("C", bound=_ConnectedWorld)

_ERROR_KINDS: dict[type, str] = {
    wit.PluginErrorProcessing: "processing",
    wit.PluginErrorConfiguration: "configuration",
    wit.PluginErrorIo: "io",
    wit.PluginErrorSerialization: "serialization",
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
_WIT_SET = _slot_setters(wit.Record, ("key", "value", "timestamp", "metadata"))
_MODEL_SET = _slot_setters(Record, ("value", "key", "timestamp", "metadata"))


def to_wit_record(record: Record) -> wit.Record:
    """A model record as the generated WIT record (metadata as ordered pairs)."""
    set_key, set_value, set_timestamp, set_metadata = _WIT_SET
    out = _new(wit.Record)
    set_key(out, record.key)
    set_value(out, record.value)
    set_timestamp(out, record.timestamp)
    metadata = record.metadata
    set_metadata(out, list(metadata.items()) if metadata else [])
    return out


def from_wit_record(record: wit.Record) -> Record:
    """A WIT record as a model record; a repeated metadata name keeps its last value."""
    set_value, set_key, set_timestamp, set_metadata = _MODEL_SET
    out = _new(Record)
    set_value(out, record.value)
    set_key(out, record.key)
    set_timestamp(out, record.timestamp)
    metadata = record.metadata
    set_metadata(out, dict(metadata) if metadata else {})
    return out


def _unencodable(record: Record) -> PluginError | None:
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


def _screened(
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
    bad = {i: e for i, r in enumerate(records) if (e := _unencodable(r)) is not None}
    good = [r for i, r in enumerate(records) if i not in bad]
    outcomes = iter(call(good) if good else [])
    return [bad[i] if i in bad else next(outcomes) for i in range(len(records))]


def _error(err: wit.PluginError) -> PluginError:
    return plugin_error(_ERROR_KINDS[type(err)], err.value)


def _unwrap(result: rt.Ok[T] | rt.Err[wit.PluginError]) -> T:
    if isinstance(result, rt.Err):
        raise _error(result.value)
    return result.value


def _outcome(result: rt.Ok[T] | rt.Err[wit.PluginError]) -> T | PluginError:
    return _error(result.value) if isinstance(result, rt.Err) else result.value


def _info(info: wit.PluginInfo) -> PluginInfo:
    return PluginInfo(
        name=info.name,
        version=info.version,
        kind=PluginKind(info.kind.value),
        description=info.description,
        params=tuple(ParamInfo(p.name, p.description, p.required, p.default) for p in info.params),
    )


class WasmPlugin(Generic[W]):
    """What every adapter shares: describe, configure (replayed after a trap), close."""

    kind: ClassVar[PluginKind]
    _world_type: ClassVar[type[Any]]
    """The generated world class; its constructor takes (store, instance)."""

    def __init__(
        self,
        loaded: LoadedComponent,
        *,
        name: str | None = None,
        stage: str | None = None,
        limits: Limits = NO_LIMITS,
        caps: Capabilities | None = None,
        fuel_per_record: int | None = None,
        max_record_bytes: int | None = None,
    ) -> None:
        """Instantiate `loaded` (which must target this adapter's world) in a sandbox.

        `fuel_per_record` scales a batch call's fuel to its length (else every
        call gets `limits.fuel_per_call`); `max_record_bytes` refuses bigger
        records the guest returns, each as a `LimitExceeded` in its slot.
        """
        if loaded.kind is not self.kind:
            raise ValueError(
                f"{loaded.path} is a {loaded.kind.value} plugin, not {self.kind.value}"
            )
        self.loaded = loaded
        self._config: list[tuple[str, str]] | None = None
        self._connected = False
        self._position: bytes | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        self._fuel_per_record = fuel_per_record if loaded.engine_config.fuel else None
        self._max_record_bytes = max_record_bytes
        self._instance: PluginInstance[W] = PluginInstance(
            loaded, self._make_world, name=name, stage=stage, limits=limits, caps=caps
        )

    @property
    def instance(self) -> PluginInstance[W]:
        """The runtime instance (trap and instantiation counters live there)."""
        return self._instance

    def _make_world(self, store: wasmtime.Store, instance: wasmtime.component.Instance) -> W:
        world: W = self._world_type(store, instance)
        # A replacement instance after a trap starts blank: bring it back to
        # where the caller left the plugin.
        self._replay(world)
        return world

    def _replay(self, world: W) -> None:
        if self._config is not None:
            _unwrap(world.configure(self._config))

    def _call(self, fn: Callable[[W], T], records: int | None = None) -> T:
        fuel = None
        if records is not None and self._fuel_per_record is not None:
            fuel = self._fuel_per_record * max(records, 1)
        return self._instance.call(fn, fuel=fuel)

    def _call_one(self, record: Record, fn: Callable[[W], T]) -> T:
        """A one-record call; metadata that is not UTF-8 is a serialization error."""
        try:
            return self._call(fn, 1)
        except UnicodeEncodeError:
            error = _unencodable(record)
            if error is None:
                raise
            raise error from None

    def _checked(self, record: wit.Record) -> Record:
        """The model record, or `LimitExceeded` when it is over `max_record_bytes`."""
        limit = self._max_record_bytes
        if limit is not None:
            size = len(record.value) + len(record.key or b"")
            if record.metadata:
                size += sum(len(k) + len(v) for k, v in record.metadata)
            if size > limit:
                raise LimitExceeded(
                    f"plugin {self._instance.name!r} returned a record of {size} bytes; "
                    f"limit max_record_bytes={limit}",
                    limit="max_record_bytes",
                    value=limit,
                )
        return from_wit_record(record)

    def describe(self) -> PluginInfo:
        """Name, version, kind and declared parameters, as the guest reports them."""
        return _info(self._call(lambda w: w.describe()))

    def configure(self, config: Mapping[str, str]) -> None:
        """Hand `config` to the guest; its `plugin-error` is raised as `PluginError`."""
        pairs = list(config.items())
        _unwrap(self._call(lambda w: w.configure(pairs)))
        self._config = pairs

    def close(self) -> None:
        """Release the instance; safe to call twice."""
        with self._close_lock:
            if not self._closed:
                self._closed = True
                self._instance.close()


class WasmFilter(WasmPlugin[wit_filter.Filter]):
    """A `FilterPlugin` backed by a component targeting world `filter`."""

    kind = PluginKind.FILTER
    _world_type = wit_filter.Filter

    def filter(self, record: Record) -> bool:
        """True keeps the record."""
        wr = to_wit_record(record)
        return _unwrap(self._call_one(record, lambda w: w.filter(wr)))

    def filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        """One decision or error per record, from one guest call."""
        return _screened(records, self._filter_batch)

    def _filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        batch = [to_wit_record(r) for r in records]
        outcomes = self._call(lambda w: w.filter_batch(batch), len(batch))
        # The common case inline: one attribute read per decision, no call.
        err = rt.Err
        return [_error(o.value) if isinstance(o, err) else o.value for o in outcomes]


class WasmTransform(WasmPlugin[wit_transform.Transform]):
    """A `TransformPlugin` backed by a component targeting world `transform`."""

    kind = PluginKind.TRANSFORM
    _world_type = wit_transform.Transform

    def transform(self, record: Record) -> Record:
        """The new record."""
        wr = to_wit_record(record)
        return self._checked(_unwrap(self._call_one(record, lambda w: w.transform(wr))))

    def transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        """One new record or error per record, from one guest call."""
        return _screened(records, self._transform_batch)

    def _transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        batch = [to_wit_record(r) for r in records]
        out: list[Record | PluginError | LimitExceeded] = []
        ok = rt.Ok
        checked = self._checked
        for outcome in self._call(lambda w: w.transform_batch(batch), len(batch)):
            if type(outcome) is not ok:
                value = _outcome(outcome)
                if isinstance(value, PluginError):
                    out.append(value)
                    continue
            else:
                value = outcome.value
            try:
                out.append(checked(value))
            except LimitExceeded as exc:
                out.append(exc)
        return out  # type: ignore[return-value]


class WasmAggregate(WasmPlugin[wit_aggregate.Aggregate]):
    """An `AggregatePlugin` backed by a component targeting world `aggregate`."""

    kind = PluginKind.AGGREGATE
    _world_type = wit_aggregate.Aggregate

    def init(self) -> bytes:
        """The empty accumulator."""
        return self._call(lambda w: w.init())

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        """Fold one record in."""
        wr = to_wit_record(record)
        return _unwrap(self._call_one(record, lambda w: w.aggregate(acc, wr)))

    def aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        """Fold records in one guest call; failed records are left out of the fold."""
        folded = acc

        def fold(part: Sequence[Record]) -> list[PluginError | None]:
            nonlocal folded
            folded, outcomes = self._aggregate_batch(acc, part)
            return outcomes

        outcomes = _screened(records, fold)
        return folded, outcomes

    def _aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        batch = [to_wit_record(r) for r in records]
        fold = self._call(lambda w: w.aggregate_batch(acc, batch), len(batch))
        outcomes: list[PluginError | None] = [
            _error(o.value) if isinstance(o, rt.Err) else None for o in fold.outcomes
        ]
        return fold.accumulator, outcomes

    def emit(self, acc: bytes) -> list[Record]:
        """The records the final accumulator stands for."""
        return [self._checked(r) for r in _unwrap(self._call(lambda w: w.emit(acc)))]


class _Connected(WasmPlugin[C]):
    """Sources and sinks: `connect` is replayed after a trap; `close` closes the guest too."""

    def _replay(self, world: C) -> None:
        super()._replay(world)
        if self._connected:
            _unwrap(world.connect())

    def connect(self) -> None:
        """Open the guest's resource."""
        _unwrap(self._call(lambda w: w.connect()))
        self._connected = True

    def close(self) -> None:
        """Close the guest's resource, then release the instance; safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._connected:
                    self._connected = False
                    _unwrap(self._call(lambda w: w.close()))
            finally:
                self._instance.close()


class WasmSource(_Connected[wit_source.Source]):
    """A `SourcePlugin` backed by a component targeting world `source`."""

    kind = PluginKind.SOURCE
    _world_type = wit_source.Source

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` records; an empty list means end of stream."""
        if not 0 <= max_records < 1 << 32:
            raise ValueError(f"max_records must fit in a u32, got {max_records}")
        records = _unwrap(self._call(lambda w: w.read(max_records), max_records))
        return [self._checked(r) for r in records]

    def _replay(self, world: wit_source.Source) -> None:
        super()._replay(world)
        if self._connected and self._position is not None:
            _unwrap(world.restore(self._position))

    def checkpoint(self) -> bytes:
        """An opaque position after the last record read (also where a trap resumes from)."""
        position = _unwrap(self._call(lambda w: w.checkpoint()))
        self._position = position
        return position

    def restore(self, position: bytes) -> None:
        """Resume after a position returned by `checkpoint`."""
        _unwrap(self._call(lambda w: w.restore(position)))
        self._position = position


class WasmSink(_Connected[wit_sink.Sink]):
    """A `SinkPlugin` backed by a component targeting world `sink`."""

    kind = PluginKind.SINK
    _world_type = wit_sink.Sink

    def write(self, record: Record) -> None:
        """Write one record."""
        wr = to_wit_record(record)
        _unwrap(self._call_one(record, lambda w: w.write(wr)))

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Write records in one guest call; None for each success."""
        return _screened(records, self._write_batch)

    def _write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        batch = [to_wit_record(r) for r in records]
        return [
            _error(o.value) if isinstance(o, rt.Err) else None
            for o in self._call(lambda w: w.write_batch(batch), len(batch))
        ]

    def flush(self) -> None:
        """Make every accepted record durable."""
        _unwrap(self._call(lambda w: w.flush()))


ADAPTERS: dict[PluginKind, type[WasmPlugin[Any]]] = {
    PluginKind.FILTER: WasmFilter,
    PluginKind.TRANSFORM: WasmTransform,
    PluginKind.AGGREGATE: WasmAggregate,
    PluginKind.SOURCE: WasmSource,
    PluginKind.SINK: WasmSink,
}


def load_wasm_plugin(
    path: str | os.PathLike[str],
    kind: PluginKind | str | None = None,
    *,
    name: str | None = None,
    stage: str | None = None,
    limits: Limits = NO_LIMITS,
    engine_config: EngineConfig | None = None,
    cache: CompileCache | None = None,
    caps: Capabilities | None = None,
    fuel_per_record: int | None = None,
    max_record_bytes: int | None = None,
) -> AnyPlugin:
    """Load a component and wrap it in the adapter for its world.

    With `kind`, the component must target that world (else
    `WorldMismatchError`); without it, the world is told from its exports.
    `name` names the plugin's logger (default: the file stem), `stage` tags
    its log lines. Limits that need fuel or epochs pick an engine with them
    unless `engine_config` is given. `caps` grants dirs/env/stdout (None:
    nothing granted, output logged); `fuel_per_record` and `max_record_bytes`
    as for `WasmPlugin`.
    """
    wanted = None if kind is None else parse_kind(kind)
    if engine_config is None:
        engine_config = (
            DEFAULT_CONFIG
            if limits.fuel_per_call is None and limits.timeout is None
            else EngineConfig(
                fuel=limits.fuel_per_call is not None, epoch=limits.timeout is not None
            )
        )
    loaded = load_component(path, wanted, engine_config=engine_config, cache=cache)
    adapter: Any = ADAPTERS[loaded.kind](
        loaded,
        name=name,
        stage=stage,
        limits=limits,
        caps=caps,
        fuel_per_record=fuel_per_record,
        max_record_bytes=max_record_bytes,
    )
    return adapter  # type: ignore[no-any-return]


def open_plugin(
    kind: PluginKind | str, name: str, config: Mapping[str, str] | None = None
) -> AnyPlugin:
    """A new instance of the native plugin `kind`/`name`, configured when `config` is given.

    Raises `PluginNotFoundError` (listing what is available) for an unknown name.
    """
    plugin: Any = get(kind, name)()
    if config is not None:
        plugin.configure(config)
    return plugin  # type: ignore[no-any-return]
