"""Small native plugins for the pipeline tests (imported by tests and by subprocesses).

Every plugin here accepts `closed_path`: when set, `close` appends the
plugin's `tag` to that file, so a test can see that every plugin was closed,
even in another process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import ClassVar

from dataflare.errors import GuestTrap, PluginIoError, ProcessingError, SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import AggregateBase, FilterBase, SinkBase, SourceBase, TransformBase
from dataflare.plugins.registry import register

EVENTS: list[tuple[str, int]] = []
"""(what, count) in call order: ("read", n) and ("write", n), for the back-pressure test."""

_CLOSE = (
    ParamInfo("closed_path", "append the tag here on close"),
    ParamInfo("tag", "name in closed_path", default="?"),
)


class _Closing:
    config: dict[str, str]

    def close(self) -> None:
        path = self.config.get("closed_path")
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(self.config.get("tag", "?") + "\n")


def _doc(record: Record) -> dict[str, object]:
    try:
        doc = json.loads(record.value)
    except ValueError as exc:
        raise SerializationError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise SerializationError("not a JSON object")
    return doc


@register("source", "test_range")
class RangeSource(_Closing, SourceBase):
    """Emits {"n": i} for i in [start, start+count); sleeps `delay_ms` per read."""

    params = (
        ParamInfo("count", default="10"),
        ParamInfo("delay_ms", default="0"),
        *_CLOSE,
    )

    def connect(self) -> None:
        self._next = 0
        self._count = int(self.param("count"))

    def read(self, max_records: int) -> list[Record]:
        time.sleep(int(self.param("delay_ms")) / 1000)
        end = min(self._count, self._next + max_records)
        out = [
            Record(value=json.dumps({"n": i}).encode(), key=str(i % 3).encode())
            for i in range(self._next, end)
        ]
        self._next = end
        EVENTS.append(("read", len(out)))
        return out

    def checkpoint(self) -> bytes:
        return str(self._next).encode()

    def restore(self, position: bytes) -> None:
        self._next = int(position)


@register("filter", "test_fail_on")
class FailOn(_Closing, FilterBase):
    """Fails records whose `n` is a multiple of `every` (ProcessingError); keeps the rest."""

    params = (ParamInfo("every", default="5"), *_CLOSE)

    def filter(self, record: Record) -> bool:
        n = _doc(record).get("n")
        if isinstance(n, int) and n % int(self.param("every")) == 0:
            raise ProcessingError(f"n={n} is a multiple of {self.param('every')}")
        return True


@register("filter", "test_even")
class Even(_Closing, FilterBase):
    """Keeps records with an even `n`."""

    params = _CLOSE

    def filter(self, record: Record) -> bool:
        n = _doc(record).get("n")
        return isinstance(n, int) and n % 2 == 0


@register("transform", "test_square")
class Square(_Closing, TransformBase):
    """Adds `sq` = n*n."""

    params = _CLOSE

    def transform(self, record: Record) -> Record:
        doc = _doc(record)
        n = doc.get("n")
        if not isinstance(n, int):
            raise ProcessingError("no integer n")
        doc["sq"] = n * n
        return Record(value=json.dumps(doc).encode(), key=record.key, metadata=record.metadata)


@register("aggregate", "test_count_keys")
class CountKeys(_Closing, AggregateBase):
    """Counts records per key; emits {"key": k, "count": c} sorted by key."""

    params = _CLOSE

    def init(self) -> bytes:
        return b"{}"

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        counts = json.loads(acc)
        key = (record.key or b"").decode()
        counts[key] = counts.get(key, 0) + 1
        return json.dumps(counts).encode()

    def emit(self, acc: bytes) -> list[Record]:
        counts = json.loads(acc)
        return [
            Record(value=json.dumps({"key": k, "count": c}).encode(), key=k.encode())
            for k, c in sorted(counts.items())
        ]


@register("sink", "test_log")
class LogSink(_Closing, SinkBase):
    """Records what it is given in EVENTS and RECEIVED; fails values containing `reject`."""

    params = (ParamInfo("reject", default=""), *_CLOSE)
    RECEIVED: ClassVar[list[Record]] = []

    def write(self, record: Record) -> None:
        reject = self.param("reject")
        if reject and reject.encode() in record.value:
            raise ProcessingError(f"rejected {record.value!r}")
        LogSink.RECEIVED.append(record)

    def write_batch(self, records: Sequence[Record]) -> list[ProcessingError | None]:  # type: ignore[override]
        EVENTS.append(("write", len(records)))
        return super().write_batch(records)  # type: ignore[return-value]


@register("transform", "test_bad_batch")
class BadBatch(_Closing, TransformBase):
    """Breaks the batch contract: returns one outcome fewer than it was given."""

    params = _CLOSE

    def transform(self, record: Record) -> Record:
        return record

    def transform_batch(self, records: Sequence[Record]) -> list[Record | ProcessingError]:  # type: ignore[override]
        return list(records[1:])


@register("transform", "test_trap")
class Trap(_Closing, TransformBase):
    """Acts like a WASM guest that traps on every batch holding a record with n == `at`."""

    params = (ParamInfo("at", default="3"), *_CLOSE)

    def transform(self, record: Record) -> Record:
        return record

    def transform_batch(self, records: Sequence[Record]) -> list[Record | ProcessingError]:  # type: ignore[override]
        if any(_doc(r).get("n") == int(self.param("at")) for r in records):
            raise GuestTrap("wasm trap: unreachable")
        return list(records)


@register("sink", "test_down")
class DownSink(_Closing, SinkBase):
    """A sink whose database is down: every batch fails as a whole with an io error."""

    params = _CLOSE

    def write(self, record: Record) -> None:
        raise PluginIoError("connection refused")

    def write_batch(self, records: Sequence[Record]) -> list[ProcessingError | None]:  # type: ignore[override]
        raise PluginIoError("connection refused")


@register("sink", "test_stuck")
class StuckSink(_Closing, SinkBase):
    """A sink whose first write hangs (for a minute), after touching `started_path`.

    Its run cannot drain in time: only a second stop signal ends it soon.
    """

    params = (ParamInfo("started_path", required=True), *_CLOSE)

    def write(self, record: Record) -> None:
        with open(self.param("started_path"), "a", encoding="utf-8"):
            pass
        time.sleep(60)
