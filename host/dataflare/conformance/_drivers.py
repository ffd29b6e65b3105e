"""Kind-specific ways to push records (or source operations) through a probe.

Checks are written once against a `Driver`: `feed` one record, `feed_batch`
a list through the batch export (a columnar batch from world 0.2 on),
`merge` two accumulators, `finish` at end of stream. An aggregate
driver keeps the accumulator; a sink driver writes; a source has operations
(`SourceOp`) instead of records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from dataflare._wit import types as wit
from dataflare._wit.types import Record
from dataflare.abi import rt
from dataflare.columns import END, PENDING
from dataflare.conformance._columnar import (
    BatchProblem,
    decode_batch,
    decode_errors,
    decode_keep,
    encode_batch,
)
from dataflare.conformance._harness import (
    Malformed,
    Outcome,
    Probe,
    Refused,
    Returned,
    Trapped,
    error_kind,
)
from dataflare.conformance._inputs import record_size
from dataflare.model import PluginKind

__all__ = [
    "BATCH_EXPORT",
    "Driver",
    "SourceOp",
    "as_record",
    "source_ops",
    "standard_source_ops",
]

BATCH_EXPORT = {
    PluginKind.FILTER: "filter-batch",
    PluginKind.TRANSFORM: "transform-batch",
    PluginKind.AGGREGATE: "aggregate-batch",
    PluginKind.SINK: "write-batch",
}
_SINGLE_EXPORT = {
    PluginKind.FILTER: "filter",
    PluginKind.TRANSFORM: "transform",
    PluginKind.AGGREGATE: "aggregate",
    PluginKind.SINK: "write",
}


@dataclass(frozen=True, slots=True)
class SourceOp:
    """One source call: ``read`` (with `max`), ``checkpoint`` or ``restore`` (with `position`)."""

    name: str
    max: int = 0
    position: bytes = b""

    def __str__(self) -> str:
        if self.name == "read":
            return f"read({self.max})"
        if self.name == "restore":
            return f"restore({self.position!r})"
        return f"{self.name}()"


def standard_source_ops() -> list[SourceOp]:
    """The fixed source operations every source is run through."""
    return [
        SourceOp("read", 0),
        SourceOp("read", 1),
        SourceOp("checkpoint"),
        SourceOp("read", 100),
        SourceOp("restore", position=b""),
        SourceOp("restore", position=b"\xff" * 9),
        SourceOp("read", 1000),
        SourceOp("checkpoint"),
    ]


def source_ops(max_size: int = 6) -> st.SearchStrategy[list[SourceOp]]:
    """Random sequences of source operations (reads up to 1000 records at a time)."""
    op = st.one_of(
        st.builds(SourceOp, st.just("read"), st.integers(min_value=0, max_value=1000)),
        st.just(SourceOp("checkpoint")),
        st.builds(SourceOp, st.just("restore"), st.just(0), st.binary(max_size=16)),
    )
    return st.lists(op, max_size=max_size)


def _batch_outcome(raw: Any, kind: PluginKind) -> Outcome:
    """One element of a 0.1 batch result; a transformed record as the checks' `Record`."""
    if isinstance(raw, rt.Err):
        return Refused(error_kind(raw.value), raw.value.value)
    value = raw.value if isinstance(raw, rt.Ok) else raw
    return Returned(as_record(value) if kind is PluginKind.TRANSFORM else value)


def as_record(value: Any) -> Record:
    """A record from any version's bindings as the checks' `Record`, so results compare equal."""
    return Record(value.key, value.value, value.timestamp, list(value.metadata))


def _records(value: Any) -> list[Record]:
    return [as_record(r) for r in value]


def _read_outcome(raw: Any, most: int) -> Any:
    """A 0.2 `read-outcome` as records, `PENDING` or `END`; `BatchProblem` if it breaks the WIT."""
    if isinstance(raw, wit.ReadOutcomePending):
        return PENDING
    if isinstance(raw, wit.ReadOutcomeEnd):
        return END
    records = decode_batch(raw.value)
    if not records:
        raise BatchProblem(
            "records holds no record; with nothing to give, read must say pending (more may"
            " come) or end (the stream is over)"
        )
    if len(records) > most:
        raise BatchProblem(f"read({most}) returned {len(records)} records, more than asked for")
    return records


def _per_record(kind: PluginKind, raw: Any, count: int) -> list[Outcome]:
    """A 0.2 batch export's result as one outcome per record; `BatchProblem` if malformed."""
    if kind is PluginKind.SINK:
        errors = decode_errors(raw, count)
    else:
        errors = decode_errors(raw.errors, count)
    values: list[Any] = [None] * count
    if kind is PluginKind.FILTER:
        values = list(decode_keep(raw.keep, count))
    elif kind is PluginKind.TRANSFORM:
        values = list(decode_batch(raw.records, count))
    return [
        Refused(error_kind(errors[i]), errors[i].value) if i in errors else Returned(values[i])
        for i in range(count)
    ]


class Driver:
    """Feeds one probe according to its world and the world's version.

    0.1 batch exports take a list of records and answer one result per
    record; 0.2 ones take a columnar batch and answer in columns (a keep
    bitmap, a batch, sparse errors), which the driver decodes strictly into
    the same per-record outcomes, or a `Malformed` saying what rule broke.
    """

    def __init__(self, probe: Probe, kind: PluginKind) -> None:
        self.probe = probe
        self.kind = kind
        self.columnar = probe.subject.columnar
        self.acc: bytes | None = None

    def start(self) -> Outcome | None:
        """Take the accumulator from `init` unless one is held; the failure, if `init` failed."""
        if self.acc is None:
            init = self.probe.call("init")
            if not isinstance(init, Returned):
                return init
            self.acc = init.value
        return None

    def feed(self, item: Record | SourceOp) -> Outcome:
        """One record (or source operation); aggregate success is `Returned(None)`."""
        if isinstance(item, SourceOp):
            return self._source(item)
        size = record_size(item)
        if self.kind is PluginKind.AGGREGATE:
            failed = self.start()
            if failed is not None:
                return failed
            out = self.probe.call(
                "aggregate",
                self.acc,
                self.probe.subject.wire(item),
                size=size + len(self.acc or b""),
            )
            if isinstance(out, Returned):
                self.acc = out.value
                return Returned(None)
            return out
        out = self.probe.call(_SINGLE_EXPORT[self.kind], self.probe.subject.wire(item), size=size)
        if isinstance(out, Returned) and self.kind is PluginKind.TRANSFORM:
            return Returned(as_record(out.value))
        return out

    def _source(self, op: SourceOp) -> Outcome:
        if op.name == "restore":
            return self.probe.call("restore", op.position, size=len(op.position))
        if op.name != "read":
            return self.probe.call(op.name)
        out = self.probe.call("read", op.max)
        if not isinstance(out, Returned):
            return out
        if not self.columnar:
            return Returned(_records(out.value))
        try:
            return Returned(_read_outcome(out.value, op.max))
        except BatchProblem as problem:
            return Malformed("read", str(problem))

    def feed_batch(self, records: Sequence[Record]) -> list[Outcome] | Trapped | Malformed:
        """Records through the batch export: one outcome per record (0.1: per returned element)."""
        size = sum(record_size(r) for r in records)
        export = BATCH_EXPORT[self.kind]
        wire = self.probe.subject.wire
        arg: Any = encode_batch(records) if self.columnar else [wire(r) for r in records]
        if self.kind is PluginKind.AGGREGATE:
            failed = self.start()
            if isinstance(failed, Trapped | Malformed):
                return failed
            if failed is not None:
                return [failed] * len(records)
            out = self.probe.call(export, self.acc, arg, size=size + len(self.acc or b""))
        else:
            out = self.probe.call(export, arg, size=size)
        if isinstance(out, Trapped | Malformed):
            return out
        assert isinstance(out, Returned)
        if not self.columnar:
            if self.kind is PluginKind.AGGREGATE:
                self.acc = out.value.accumulator
                return [_batch_outcome(o, self.kind) for o in out.value.outcomes]
            return [_batch_outcome(o, self.kind) for o in out.value]
        try:
            outcomes = _per_record(self.kind, out.value, len(records))
        except BatchProblem as problem:
            return Malformed(export, str(problem))
        if self.kind is PluginKind.AGGREGATE:
            self.acc = out.value.accumulator
        return outcomes

    def merge(self, a: bytes, b: bytes) -> Outcome:
        """`merge(a, b)` of two accumulators (0.2 aggregates)."""
        return self.probe.call("merge", a, b, size=len(a) + len(b))

    def finish(self) -> Outcome | None:
        """End of stream: aggregate `emit` (as records), sink `flush`; nothing for other kinds."""
        if self.kind is PluginKind.AGGREGATE:
            failed = self.start()
            if failed is not None:
                return failed
            out = self.probe.call("emit", self.acc, size=len(self.acc or b""))
            if not isinstance(out, Returned):
                return out
            if not self.columnar:
                return Returned(_records(out.value))
            try:
                return Returned(decode_batch(out.value))
            except BatchProblem as problem:
                return Malformed("emit", str(problem))
        if self.kind is PluginKind.SINK:
            return self.probe.call("flush")
        return None
