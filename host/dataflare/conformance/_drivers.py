"""Kind-specific ways to push records (or source operations) through a probe.

Checks are written once against a `Driver`: `feed` one record, `feed_batch`
a list through the batch export, `finish` at end of stream. An aggregate
driver keeps the accumulator; a sink driver writes; a source has operations
(`SourceOp`) instead of records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from dataflare._wit_v0_1.types import Record
from dataflare.abi import rt
from dataflare.conformance._harness import Outcome, Probe, Refused, Returned, Trapped, error_kind
from dataflare.conformance._inputs import record_size
from dataflare.model import PluginKind

__all__ = ["BATCH_EXPORT", "Driver", "SourceOp", "source_ops", "standard_source_ops"]

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


def _batch_outcome(raw: Any) -> Outcome:
    if isinstance(raw, rt.Err):
        return Refused(error_kind(raw.value), raw.value.value)
    return Returned(raw.value if isinstance(raw, rt.Ok) else raw)


class Driver:
    """Feeds one probe according to its world."""

    def __init__(self, probe: Probe, kind: PluginKind) -> None:
        self.probe = probe
        self.kind = kind
        self.acc: bytes | None = None

    def _ensure_acc(self) -> Outcome | None:
        if self.acc is None:
            init = self.probe.call("init")
            if not isinstance(init, Returned):
                return init
            self.acc = init.value
        return None

    def feed(self, item: Record | SourceOp) -> Outcome:
        """One record (or source operation); aggregate success is `Returned(None)`."""
        if isinstance(item, SourceOp):
            if item.name == "read":
                return self.probe.call("read", item.max)
            if item.name == "restore":
                return self.probe.call("restore", item.position, size=len(item.position))
            return self.probe.call(item.name)
        size = record_size(item)
        if self.kind is PluginKind.AGGREGATE:
            failed = self._ensure_acc()
            if failed is not None:
                return failed
            out = self.probe.call("aggregate", self.acc, item, size=size + len(self.acc or b""))
            if isinstance(out, Returned):
                self.acc = out.value
                return Returned(None)
            return out
        return self.probe.call(_SINGLE_EXPORT[self.kind], item, size=size)

    def feed_batch(self, records: Sequence[Record]) -> list[Outcome] | Trapped:
        """Records through the batch export: one outcome per returned element."""
        size = sum(record_size(r) for r in records)
        export = BATCH_EXPORT[self.kind]
        if self.kind is PluginKind.AGGREGATE:
            failed = self._ensure_acc()
            if isinstance(failed, Trapped):
                return failed
            if failed is not None:
                return [failed] * len(records)
            out = self.probe.call(export, self.acc, list(records), size=size + len(self.acc or b""))
            if isinstance(out, Trapped):
                return out
            assert isinstance(out, Returned)
            self.acc = out.value.accumulator
            return [_batch_outcome(o) for o in out.value.outcomes]
        out = self.probe.call(export, list(records), size=size)
        if isinstance(out, Trapped):
            return out
        assert isinstance(out, Returned)
        return [_batch_outcome(o) for o in out.value]

    def finish(self) -> Outcome | None:
        """End of stream: aggregate `emit`, sink `flush`; nothing for other kinds."""
        if self.kind is PluginKind.AGGREGATE:
            failed = self._ensure_acc()
            if failed is not None:
                return failed
            return self.probe.call("emit", self.acc, size=len(self.acc or b""))
        if self.kind is PluginKind.SINK:
            return self.probe.call("flush")
        return None
