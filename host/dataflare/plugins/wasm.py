"""Adapters that make WASM components look like native plugins, and `load_wasm_plugin`.

`WasmFilter`, `WasmTransform`, `WasmAggregate`, `WasmSource` and `WasmSink`
satisfy the protocols in `dataflare.plugins.kinds` on top of the runtime's
`PluginInstance` and the generated bindings (`dataflare._wit`); the
conversions at that boundary are in `dataflare.plugins.wit_records`.

A trap surfaces as `GuestTrap` and the runtime replaces the instance; the
adapter then replays `configure` (and `connect`, for sources and sinks, and
`restore` of the last position a source's caller checkpointed or restored) on
the fresh instance, so the next call sees a configured plugin. Other state
inside the guest (records a source read since that position, a sink's
unflushed writes) is lost with the trapped instance.

Batch calls are cut by bytes as well as by count (`dataflare.plugins.call_bounds`):
one outcome per record and the order are kept, and a record too big for one
call on its own gets a `RecordTooLarge` (kind `limit`) in its slot. Each chunk
is its own guest call with its own fuel and deadline; a trap in a later chunk
fails the whole batch call as before, so a sink may see the earlier chunks
again when the caller retries (sinks are at least once across traps).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import wasmtime
import wasmtime.component

from dataflare._wit import types as wit2
from dataflare._wit_v0_1 import aggregate as wit_aggregate
from dataflare._wit_v0_1 import filter as wit_filter
from dataflare._wit_v0_1 import sink as wit_sink
from dataflare._wit_v0_1 import source as wit_source
from dataflare._wit_v0_1 import transform as wit_transform
from dataflare._wit_v0_1 import types as wit
from dataflare.abi import rt
from dataflare.errors import PluginError, RecordTooLarge
from dataflare.model import PluginInfo, PluginKind, Record
from dataflare.plugins.call_bounds import (
    DEFAULT_MEMORY_BYTES,
    HOST_COST_ROUND_TRIP,
    HOST_COST_SENT,
    MIB,
    RETURN_BYTES,
    call_bytes,
    memory_per_byte,
    wire_bytes,
)
from dataflare.plugins.kinds import AnyPlugin, BatchFold
from dataflare.plugins.registry import parse_kind
from dataflare.plugins.wit_records import (
    from_wit_record,
    plugin_info,
    screened,
    to_plugin_error,
    to_wit_record,
    unencodable,
    unwrap,
    value_or_error,
)
from dataflare.runtime import CompileCache, EngineConfig, LoadedComponent, load_component
from dataflare.runtime.capabilities import Capabilities
from dataflare.runtime.engine import DEFAULT_CONFIG
from dataflare.runtime.instance import PluginInstance
from dataflare.runtime.limits import NO_LIMITS, Limits

__all__ = [
    "WasmAggregate",
    "WasmFilter",
    "WasmPlugin",
    "WasmSink",
    "WasmSource",
    "WasmTransform",
    "adapter_for",
    "load_wasm_plugin",
]

T = TypeVar("T")


_Unit = rt.Ok[None] | rt.Err[wit.PluginError] | rt.Err[wit2.PluginError]
"""What `configure`, `connect` and `close` return, at either version."""


class _World(Protocol):
    """What the generated class of every world has, at every version."""

    def describe(self) -> wit.PluginInfo | wit2.PluginInfo: ...
    def configure(self, config: wit.Config) -> _Unit: ...


class _ConnectedWorld(_World, Protocol):
    """What the generated `Source` and `Sink` classes add."""

    def connect(self) -> _Unit: ...
    def close(self) -> _Unit: ...


class _SourceWorld(_ConnectedWorld, Protocol):
    """What the generated `Source` classes add, at every version."""

    def checkpoint(self) -> rt.Ok[bytes] | rt.Err[wit.PluginError] | rt.Err[wit2.PluginError]: ...
    def restore(self, position: bytes) -> _Unit: ...


W = TypeVar("W", bound=_World)
C = TypeVar("C", bound=_ConnectedWorld)
S = TypeVar("S", bound=_SourceWorld)


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
        max_call_bytes: int | None = None,
    ) -> None:
        """Instantiate `loaded` (which must target this adapter's world) in a sandbox.

        `fuel_per_record` scales a batch call's fuel to its length (else every
        call gets `limits.fuel_per_call`); `max_record_bytes` refuses bigger
        records the guest returns, each as a `RecordTooLarge` in its slot.
        `max_call_bytes` bounds the `list<u8>` bytes of one batch call
        (default: `call_bytes(kind, limits.memory_bytes)`).
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
        self._memory_bytes = limits.memory_bytes
        self.max_call_bytes = max_call_bytes or call_bytes(self.kind, limits.memory_bytes)
        """The most `list<u8>` bytes (values and keys) one batch call sends."""
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
            unwrap(world.configure(self._config))

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
            error = unencodable(record)
            if error is None:
                raise
            raise error from None

    def _chunked(
        self,
        records: Sequence[Record],
        call: Callable[[Sequence[Record]], list[T]],
        overhead: Callable[[], int] = lambda: 0,
    ) -> list[T | PluginError]:
        """`call` over runs of `records` of at most `max_call_bytes`; outcomes in order.

        `overhead()` is what else each call carries (an aggregate's
        accumulator), counted against the bound; a call still takes at least
        one record. A record over the bound on its own is not sent: its slot
        gets a `RecordTooLarge` saying how to let it through. Each call is
        `screened`: a record whose metadata cannot be lowered fails alone.
        """

        def send(part: Sequence[Record]) -> list[T | PluginError]:
            return screened(part, call)

        bound = self.max_call_bytes
        sizes = [wire_bytes(r) for r in records]
        total = overhead()
        if total + sum(sizes) <= bound:  # the common case: one call, no copies
            return send(records)
        out: list[T | PluginError] = []
        chunk: list[Record] = []
        for record, size in zip(records, sizes, strict=True):
            if chunk and total + size > bound:
                out += send(chunk)
                chunk, total = [], overhead()
            if size > bound:
                out.append(self._too_big(size))
                continue
            chunk.append(record)
            total += size
        if chunk:
            out += send(chunk)
        return out

    def _too_big(self, size: int) -> RecordTooLarge:
        """The outcome of a record whose value and key cannot cross in one call."""
        bound = self.max_call_bytes
        name = self._instance.name
        head = (
            f"plugin {name!r}: a record of {size} bytes (value and key) is over the "
            f"{bound}-byte bound of one WASM call"
        )
        if self.kind is PluginKind.TRANSFORM and size > RETURN_BYTES:
            return RecordTooLarge(
                f"{head}; a transform cannot return more than {RETURN_BYTES} bytes of "
                "list<u8> per call in WIT 0.1 (wasmtime's hostcall copy limit), so raising "
                "limits.memory_mb does not help",
                limit="call_bytes",
                value=bound,
            )
        cost = HOST_COST_ROUND_TRIP if self.kind is PluginKind.TRANSFORM else HOST_COST_SENT
        memory = self._memory_bytes
        now = f"{(DEFAULT_MEMORY_BYTES if memory is None else memory) // MIB}"
        need = -(-size * memory_per_byte(self.kind) // MIB)
        return RecordTooLarge(
            f"{head} (host memory per call is about {cost}x the bytes sent and is held "
            f"under limits.memory_mb, now {now}); raise limits.memory_mb to at least "
            f"{need} to let it through",
            limit="call_bytes",
            value=bound,
        )

    def _checked(self, record: wit.Record | wit2.Record) -> Record:
        """The model record, or `RecordTooLarge` when it is over `max_record_bytes`."""
        limit = self._max_record_bytes
        if limit is not None:
            size = wire_bytes(record)
            if record.metadata:
                size += sum(len(k) + len(v) for k, v in record.metadata)
            if size > limit:
                raise RecordTooLarge(
                    f"plugin {self._instance.name!r} returned a record of {size} bytes; "
                    f"limit max_record_bytes={limit}",
                    limit="max_record_bytes",
                    value=limit,
                )
        return from_wit_record(record)

    def describe(self) -> PluginInfo:
        """Name, version, kind and declared parameters, as the guest reports them."""
        return plugin_info(self._call(lambda w: w.describe()))

    def configure(self, config: Mapping[str, str]) -> None:
        """Hand `config` to the guest; its `plugin-error` is raised as `PluginError`."""
        pairs = list(config.items())
        unwrap(self._call(lambda w: w.configure(pairs)))
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
        return unwrap(self._call_one(record, lambda w: w.filter(wr)))

    def filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        """One decision or error per record, from guest calls cut by bytes."""
        return self._chunked(records, self._filter_batch)

    def _filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]:
        batch = [to_wit_record(r) for r in records]
        outcomes = self._call(lambda w: w.filter_batch(batch), len(batch))
        # The common case inline: one attribute read per decision, no call.
        err = rt.Err
        return [to_plugin_error(o.value) if isinstance(o, err) else o.value for o in outcomes]


class WasmTransform(WasmPlugin[wit_transform.Transform]):
    """A `TransformPlugin` backed by a component targeting world `transform`."""

    kind = PluginKind.TRANSFORM
    _world_type = wit_transform.Transform

    def transform(self, record: Record) -> Record:
        """The new record."""
        wr = to_wit_record(record)
        return self._checked(unwrap(self._call_one(record, lambda w: w.transform(wr))))

    def transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        """One new record or error per record, from guest calls cut by bytes."""
        return self._chunked(records, self._transform_batch)

    def _transform_batch(self, records: Sequence[Record]) -> list[Record | PluginError]:
        batch = [to_wit_record(r) for r in records]
        out: list[Record | PluginError] = []
        ok = rt.Ok
        checked = self._checked
        for outcome in self._call(lambda w: w.transform_batch(batch), len(batch)):
            if type(outcome) is not ok:
                value = value_or_error(outcome)
                if isinstance(value, PluginError):
                    out.append(value)
                    continue
            else:
                value = outcome.value
            try:
                out.append(checked(value))
            except RecordTooLarge as exc:
                out.append(exc)
        return out


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
        return unwrap(self._call_one(record, lambda w: w.aggregate(acc, wr)))

    def aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        """Fold records in guest calls cut by bytes; failed records are left out of the fold.

        The accumulator crosses both ways on every call, so its size counts
        against each call's bound (a call still takes at least one record).
        """
        folded = acc

        def fold(part: Sequence[Record]) -> list[PluginError | None]:
            # A retry by `screened` follows a lowering failure, which assigned nothing.
            nonlocal folded
            folded, outcomes = self._aggregate_batch(folded, part)
            return outcomes

        out = self._chunked(records, fold, overhead=lambda: len(folded))
        return folded, out

    def _aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        batch = [to_wit_record(r) for r in records]
        fold = self._call(lambda w: w.aggregate_batch(acc, batch), len(batch))
        outcomes: list[PluginError | None] = [
            to_plugin_error(o.value) if isinstance(o, rt.Err) else None for o in fold.outcomes
        ]
        return fold.accumulator, outcomes

    def emit(self, acc: bytes) -> list[Record]:
        """The records the final accumulator stands for."""
        return [self._checked(r) for r in unwrap(self._call(lambda w: w.emit(acc)))]


class _Connected(WasmPlugin[C]):
    """Sources and sinks: `connect` is replayed after a trap; `close` closes the guest too."""

    def _replay(self, world: C) -> None:
        super()._replay(world)
        if self._connected:
            unwrap(world.connect())

    def connect(self) -> None:
        """Open the guest's resource."""
        unwrap(self._call(lambda w: w.connect()))
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
                    unwrap(self._call(lambda w: w.close()))
            finally:
                self._instance.close()


class _Resumable(_Connected[S]):
    """Sources: the last position is kept, so a fresh instance after a trap resumes there."""

    def _replay(self, world: S) -> None:
        super()._replay(world)
        if self._connected and self._position is not None:
            unwrap(world.restore(self._position))

    def checkpoint(self) -> bytes:
        """An opaque position after the last record read (also where a trap resumes from)."""
        position: bytes = unwrap(self._call(lambda w: w.checkpoint()))
        self._position = position
        return position

    def restore(self, position: bytes) -> None:
        """Resume after a position returned by `checkpoint`."""
        unwrap(self._call(lambda w: w.restore(position)))
        self._position = position


def _read(world: wit_source.Source, max_records: int) -> Any:
    return world.read(max_records)


class WasmSource(_Resumable[wit_source.Source]):
    """A `SourcePlugin` backed by a component targeting world `source`."""

    kind = PluginKind.SOURCE
    _world_type = wit_source.Source

    _largest = 0  # the most list<u8> bytes one record read so far carried

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` records; an empty list means end of stream.

        The records may come from several guest calls: each asks for no more
        records than the largest one seen so far says fit in `read_bytes`
        (the first asks for one, since nothing is known yet). Over wasmtime's
        copy limit a call would trap, and the host's memory per call grows
        with the bytes it returns. A call that returns fewer than asked ends
        the read, so a guest with nothing more yet is not asked again.
        """
        if not 0 <= max_records < 1 << 32:
            raise ValueError(f"max_records must fit in a u32, got {max_records}")
        out: list[Record] = []
        while len(out) < max_records:
            want = max_records - len(out)
            ask = max(1, min(want, self.read_bytes // self._largest)) if self._largest else 1
            records = unwrap(self._call(partial(_read, max_records=ask), ask))
            if records:
                largest = max(map(wire_bytes, records))
                self._largest = max(self._largest, largest, 1)
            out.extend(self._checked(r) for r in records)
            if len(records) < ask:
                break
        return out

    @property
    def read_bytes(self) -> int:
        """The `list<u8>` bytes one `read` call aims to stay under."""
        return min(self.max_call_bytes, RETURN_BYTES)


class WasmSink(_Connected[wit_sink.Sink]):
    """A `SinkPlugin` backed by a component targeting world `sink`."""

    kind = PluginKind.SINK
    _world_type = wit_sink.Sink

    def write(self, record: Record) -> None:
        """Write one record."""
        wr = to_wit_record(record)
        unwrap(self._call_one(record, lambda w: w.write(wr)))

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Write records in guest calls cut by bytes; None for each success."""
        return self._chunked(records, self._write_batch)

    def _write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        batch = [to_wit_record(r) for r in records]
        return [
            to_plugin_error(o.value) if isinstance(o, rt.Err) else None
            for o in self._call(lambda w: w.write_batch(batch), len(batch))
        ]

    def flush(self) -> None:
        """Make every accepted record durable."""
        unwrap(self._call(lambda w: w.flush()))


ADAPTERS: dict[PluginKind, type[WasmPlugin[Any]]] = {
    PluginKind.FILTER: WasmFilter,
    PluginKind.TRANSFORM: WasmTransform,
    PluginKind.AGGREGATE: WasmAggregate,
    PluginKind.SOURCE: WasmSource,
    PluginKind.SINK: WasmSink,
}


def adapter_for(loaded: LoadedComponent) -> type[WasmPlugin[Any]]:
    """The adapter class for a loaded component: by its kind, and its version's world."""
    if loaded.world.version == "0.1.0":
        return ADAPTERS[loaded.kind]
    from dataflare.plugins import wasm_columns  # it builds on this module

    return wasm_columns.ADAPTERS[loaded.kind]


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
    max_call_bytes: int | None = None,
) -> AnyPlugin:
    """Load a component and wrap it in the adapter for its world and version.

    0.1 components get the record adapters of this module; 0.2 components
    the columnar ones of `dataflare.plugins.wasm_columns`.

    With `kind`, the component must target that world (else
    `WorldMismatchError`); without it, the world is told from its exports.
    `name` names the plugin's logger (default: the file stem), `stage` tags
    its log lines. Limits that need fuel or epochs pick an engine with them
    unless `engine_config` is given. `caps` grants dirs/env/stdout (None:
    nothing granted, output logged); `fuel_per_record`, `max_record_bytes`
    and `max_call_bytes` as for `WasmPlugin`.
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
    adapter: Any = adapter_for(loaded)(
        loaded,
        name=name,
        stage=stage,
        limits=limits,
        caps=caps,
        fuel_per_record=fuel_per_record,
        max_record_bytes=max_record_bytes,
        max_call_bytes=max_call_bytes,
    )
    return adapter  # type: ignore[no-any-return]
