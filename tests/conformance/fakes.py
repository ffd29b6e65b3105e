"""0.2 plugins written in Python, standing in for components, to test the 0.2 checks.

A `FakeSubject` hands out `FakeProbe`s whose calls go to a fresh Python
object with the generated 0.2 world API (`filter_batch(Batch) ->
FilterOutcome`, ...), so every 0.2 driver and check runs unchanged, without a
guest toolchain. Each fake is correct by default; a `bug` name plants one
defect, so a test can show the check that should catch it does.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dataflare._wit import types as wit
from dataflare.abi import rt
from dataflare.conformance._columnar import decode_batch, encode_batch
from dataflare.conformance._harness import Outcome, Refused, Returned, Trapped, error_kind
from dataflare.conformance._props import PropertyRun
from dataflare.model import PluginKind

Record = wit.Record


class FakeTrap(Exception):
    """Raised by a fake to act as a guest trap."""


def _err(message: str) -> rt.Err[Any]:
    return rt.Err(wit.PluginErrorProcessing(message))


def _fails(record: Record) -> bool:
    return record.value == b"err" or record.value.startswith(b"\xff")


def _keep_bitmap(bits: list[bool]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


@dataclass
class FakeFilter:
    """Keeps records with a non-empty value; b"err" and values starting 0xff fail."""

    bug: str = ""

    def configure(self, config: Any) -> rt.Ok[None]:
        return rt.Ok(None)

    def filter(self, record: Record) -> Any:
        if _fails(record):
            return _err("bad record")
        return rt.Ok(bool(record.value))

    def filter_batch(self, batch: wit.Batch) -> wit.FilterOutcome:
        records = decode_batch(batch)
        if self.bug == "batch_traps" and len(records) > 2:
            raise FakeTrap("wasm trap: out of bounds memory access")
        keep = [bool(r.value) and not _fails(r) for r in records]
        errors = [
            wit.RecordError(i, wit.PluginErrorProcessing("bad record"))
            for i, r in enumerate(records)
            if _fails(r)
        ]
        bitmap = _keep_bitmap(keep)
        if self.bug == "short_bitmap" and len(records) > 8:
            bitmap = bitmap[:1]
        if self.bug == "error_index" and errors:
            errors[-1] = wit.RecordError(len(records), errors[-1].error)
        if self.bug == "bit_nine" and len(records) > 8:
            bitmap = bytes([bitmap[0], bitmap[1] ^ 1, *bitmap[2:]])
        return wit.FilterOutcome(bitmap, errors)


def _upper(record: Record) -> Record:
    return Record(record.key, record.value.upper(), record.timestamp, list(record.metadata))


@dataclass
class FakeTransform:
    """Upper-cases values (ASCII letters), keeping key, timestamp and metadata."""

    bug: str = ""

    def configure(self, config: Any) -> rt.Ok[None]:
        return rt.Ok(None)

    def transform(self, record: Record) -> Any:
        return _err("bad record") if _fails(record) else rt.Ok(_upper(record))

    def transform_batch(self, batch: wit.Batch) -> wit.TransformOutcome:
        records = decode_batch(batch)
        out = [Record(None, b"", None, []) if _fails(r) else _upper(r) for r in records]
        errors = [
            wit.RecordError(i, wit.PluginErrorProcessing("x"))
            for i, r in enumerate(records)
            if _fails(r)
        ]
        encoded = encode_batch(out)
        if self.bug == "char_offsets":
            # ends counted in characters instead of UTF-8 bytes
            ends, end = [], 0
            for r in out:
                with contextlib.suppress(UnicodeDecodeError):
                    end += len(r.value.decode("utf-8"))
                ends.append(end)
            encoded = wit.Batch(
                wit.BytesColumn(encoded.values.text, ends, encoded.values.binary, []),
                encoded.keys,
                encoded.timestamps,
                encoded.metadata,
            )
        if self.bug == "drops_metadata":
            nothing = wit.StringColumn("", [])
            empty = wit.MetadataColumn([], nothing, nothing)
            encoded = wit.Batch(encoded.values, encoded.keys, encoded.timestamps, empty)
        return wit.TransformOutcome(encoded, errors)


@dataclass
class FakeAggregate:
    """Collects values in order; emit gives one record per value, merge concatenates."""

    bug: str = ""

    def configure(self, config: Any) -> rt.Ok[None]:
        return rt.Ok(None)

    def init(self) -> bytes:
        return b"[]"

    def aggregate(self, acc: bytes, record: Record) -> Any:
        if _fails(record):
            return _err("bad record")
        items = json.loads(acc)
        items.append(record.value.hex())
        return rt.Ok(json.dumps(items).encode())

    def aggregate_batch(self, acc: bytes, batch: wit.Batch) -> wit.FoldOutcome:
        if self.bug == "batch_traps" and len(batch.values.ends) > 2:
            raise FakeTrap("wasm trap: unreachable")
        errors = []
        for i, record in enumerate(decode_batch(batch)):
            out = self.aggregate(acc, record)
            if isinstance(out, rt.Err):
                errors.append(wit.RecordError(i, out.value))
            else:
                acc = out.value
        return wit.FoldOutcome(acc, errors)

    def merge(self, a: bytes, b: bytes) -> Any:
        first, second = json.loads(a), json.loads(b)
        if self.bug == "merge_swaps":
            first, second = second, first
        if self.bug == "merge_drops" and second:
            second = second[:-1]
        if self.bug == "merge_traps" and not first:
            raise FakeTrap("wasm trap: unreachable")
        return rt.Ok(json.dumps(first + second).encode())

    def emit(self, acc: bytes) -> Any:
        records = [Record(None, bytes.fromhex(h), None, []) for h in json.loads(acc)]
        batch = encode_batch(records)
        if self.bug == "emit_ends" and records:
            values = batch.values
            batch = wit.Batch(
                wit.BytesColumn(values.text, [*values.ends[:-1], values.ends[-1] + 1], [], []),
                None,
                None,
                batch.metadata,
            )
        return rt.Ok(batch)


@dataclass
class FakeSink:
    """Writes records; b"err" values fail; calls after close fail."""

    bug: str = ""
    closed: bool = False
    written: list[Record] = field(default_factory=list)

    def configure(self, config: Any) -> rt.Ok[None]:
        return rt.Ok(None)

    def connect(self) -> rt.Ok[None]:
        return rt.Ok(None)

    def write(self, record: Record) -> Any:
        if self.closed or _fails(record):
            return _err("closed" if self.closed else "bad record")
        self.written.append(record)
        return rt.Ok(None)

    def write_batch(self, batch: wit.Batch) -> list[wit.RecordError]:
        errors = []
        for i, record in enumerate(decode_batch(batch)):
            out = self.write(record)
            if isinstance(out, rt.Err):
                errors.append(wit.RecordError(i, out.value))
        if self.bug == "unsorted_errors" and errors:
            errors.append(errors[0])
        if self.bug == "accepts_after_close" and self.closed:
            return []
        return errors

    def flush(self) -> Any:
        return _err("closed") if self.closed else rt.Ok(None)

    def close(self) -> rt.Ok[None]:
        self.closed = True
        return rt.Ok(None)


@dataclass
class FakeSource:
    """Gives `total` records, pending every third read, then end (and end again)."""

    bug: str = ""
    total: int = 5
    position: int = 0
    reads: int = 0
    closed: bool = False

    def configure(self, config: Any) -> rt.Ok[None]:
        return rt.Ok(None)

    def connect(self) -> rt.Ok[None]:
        return rt.Ok(None)

    def read(self, most: int) -> Any:
        if self.closed:
            return _err("closed")
        self.reads += 1
        if self.position >= self.total:
            if self.bug == "records_after_end" and most > 0 and self.reads % 2 == 0:
                return rt.Ok(
                    wit.ReadOutcomeRecords(encode_batch([Record(None, b"late", None, [])]))
                )
            return rt.Ok(wit.ReadOutcomeEnd())
        if most == 0 or self.reads % 3 == 0:
            if self.bug == "empty_records":
                return rt.Ok(wit.ReadOutcomeRecords(encode_batch([])))
            return rt.Ok(wit.ReadOutcomePending())
        take = min(most, self.total - self.position)
        if self.bug == "too_many":
            take += 1
        records = [
            Record(None, f"{self.position + i}".encode(), self.position + i, [])
            for i in range(take)
        ]
        self.position += take
        return rt.Ok(wit.ReadOutcomeRecords(encode_batch(records)))

    def checkpoint(self) -> Any:
        return _err("closed") if self.closed else rt.Ok(str(self.position).encode())

    def restore(self, position: bytes) -> Any:
        if not position.isdigit():
            return rt.Err(wit.PluginErrorConfiguration("bad position"))
        self.position = int(position)
        return rt.Ok(None)

    def close(self) -> rt.Ok[None]:
        self.closed = True
        return rt.Ok(None)


def _outcome(raw: Any) -> Outcome:
    if isinstance(raw, rt.Err):
        return Refused(error_kind(raw.value), raw.value.value)
    if isinstance(raw, rt.Ok):
        return Returned(raw.value)
    return Returned(raw)


class FakeProbe:
    """A `Probe` over a Python world object: same outcomes, a `FakeTrap` becomes `Trapped`."""

    def __init__(self, subject: FakeSubject, world: Any) -> None:
        self.subject = subject
        self.world = world
        self.trap: Trapped | None = None
        self.fuel = 0

    def call(self, export: str, *args: Any, size: int = 0) -> Outcome:
        if self.trap is not None:
            return self.trap
        try:
            raw = getattr(self.world, export.replace("-", "_"))(*args)
        except FakeTrap as exc:
            self.trap = Trapped("trap", str(exc))
            return self.trap
        return _outcome(raw)

    def close(self) -> None:
        pass


@dataclass
class FakeSubject:
    """A `Subject` for a 0.2 plugin written in Python (`make` builds a fresh instance)."""

    kind: PluginKind
    make: Callable[[], Any]
    config: list[tuple[str, str]] = field(default_factory=list)
    world_version: str = "0.2.0"
    columnar: bool = True

    def wire(self, record: Record) -> Record:
        return record

    def probe(self, *, configure: bool = True, connect: bool = False, **_: Any) -> FakeProbe:
        probe = FakeProbe(self, self.make())
        if configure:
            probe.call("configure", self.config)
        if connect and self.kind in (PluginKind.SOURCE, PluginKind.SINK):
            probe.call("connect")
        return probe


FAKES: dict[PluginKind, Callable[[str], Any]] = {
    PluginKind.FILTER: FakeFilter,
    PluginKind.TRANSFORM: FakeTransform,
    PluginKind.AGGREGATE: FakeAggregate,
    PluginKind.SINK: FakeSink,
    PluginKind.SOURCE: FakeSource,
}


def fake_run(kind: PluginKind, bug: str = "", *, examples: int = 12, seed: int = 0) -> PropertyRun:
    """A property run over the fake of `kind`, with `bug` planted (none by default)."""
    subject = FakeSubject(kind, lambda: FAKES[kind](bug))
    return PropertyRun(subject, (), seed, examples)  # type: ignore[arg-type]


@dataclass
class FakeFilterV01:
    """A world 0.1 filter: `filter_batch` takes a list and answers one result per record."""

    bug: str = ""

    def configure(self, config: Any) -> rt.Ok[None]:
        return rt.Ok(None)

    def filter(self, record: Record) -> Any:
        return FakeFilter().filter(record)

    def filter_batch(self, records: list[Record]) -> list[Any]:
        out = [self.filter(r) for r in records]
        if self.bug == "one_more":
            out.append(rt.Ok(True))
        return out


def fake_run_v01(bug: str = "", *, examples: int = 12, seed: int = 0) -> PropertyRun:
    """A property run over a world 0.1 fake filter, with `bug` planted."""
    subject = FakeSubject(
        PluginKind.FILTER, lambda: FakeFilterV01(bug), world_version="0.1.0", columnar=False
    )
    return PropertyRun(subject, (), seed, examples)  # type: ignore[arg-type]
