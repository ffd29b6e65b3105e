"""The 0.2 aggregate, source and sink adapters over fake world objects (no guest needed)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pyarrow as pa
import pytest
from dataflare._wit import types as wit
from dataflare.abi import rt
from dataflare.columns import END, PENDING, from_records, to_records
from dataflare.errors import GuestContractError, RecordTooLarge
from dataflare.model import Record
from dataflare.plugins import wasm_columns
from dataflare.plugins.wasm_columns import (
    WasmColumnsAggregate,
    WasmColumnsSink,
    WasmColumnsSource,
)
from dataflare.plugins.wit_columns import from_wit_batch, to_wit_batch
from hypothesis import given
from hypothesis import strategies as st

P = TypeVar("P")


class FakeInstance:
    """Stands for `PluginInstance`: calls go straight to one world object."""

    name = "fake"

    def __init__(self, world: Any) -> None:
        self.world = world
        self.calls = 0

    def call(self, fn: Callable[[Any], Any], *, fuel: int | None = None) -> Any:
        self.calls += 1
        return fn(self.world)

    def close(self) -> None:
        pass


def fake(cls: type[P], world: Any, max_call_bytes: int = 1 << 20) -> P:
    """An adapter of `cls` over `world`, without a component."""
    plugin: Any = cls.__new__(cls)
    plugin._instance = FakeInstance(world)
    plugin._stage = "s1"
    plugin._config = None
    plugin._connected = False
    plugin._position = None
    plugin._closed = False
    plugin._close_lock = threading.Lock()
    plugin._fuel_per_record = None
    plugin._max_record_bytes = None
    plugin._memory_bytes = None
    plugin.max_call_bytes = max_call_bytes
    return plugin  # type: ignore[no-any-return]


def values_of(batch: wit.Batch) -> list[bytes]:
    return [r.value for r in to_records(from_wit_batch(batch))]


class SumWorld:
    """An aggregate summing integer values; other values are per-record errors."""

    def __init__(self, bad_index: int | None = None) -> None:
        self.bad_index = bad_index
        self.batches: list[int] = []

    def init(self) -> bytes:
        return b"0"

    def aggregate_batch(self, acc: bytes, records: wit.Batch) -> wit.FoldOutcome:
        total = int(acc)
        errors = []
        values = values_of(records)
        self.batches.append(len(values))
        for i, v in enumerate(values):
            if v.isdigit():
                total += int(v)
            else:
                errors.append(wit.RecordError(i, wit.PluginErrorProcessing(f"not a number: {v!r}")))
        if self.bad_index is not None:
            errors.append(wit.RecordError(self.bad_index, wit.PluginErrorProcessing("x")))
        return wit.FoldOutcome(str(total).encode(), errors)

    def merge(self, a: bytes, b: bytes) -> rt.Ok[bytes]:
        return rt.Ok(str(int(a) + int(b)).encode())

    def emit(self, acc: bytes) -> rt.Ok[wit.Batch]:
        return rt.Ok(to_wit_batch(from_records([Record(value=acc, key=b"sum")])))


numbers = st.lists(
    st.one_of(st.integers(0, 10**6).map(lambda i: str(i).encode()), st.sampled_from([b"x", b""])),
    max_size=30,
)


def folded(values: list[bytes]) -> tuple[int, set[int]]:
    return sum(int(v) for v in values if v.isdigit()), {
        i for i, v in enumerate(values) if not v.isdigit()
    }


@given(numbers, st.integers(1, 40))
def test_a_fold_cut_into_calls_by_bytes_gives_one_fold(values: list[bytes], bound: int) -> None:
    world = SumWorld()
    plugin = fake(WasmColumnsAggregate, world, max_call_bytes=bound)
    result = plugin.aggregate_columns(plugin.init(), from_records([Record(v) for v in values]))
    too_big = {i for i, e in result.errors.items() if isinstance(e, RecordTooLarge)}
    folded_in = [v for i, v in enumerate(values) if i not in too_big]
    # Only a record over the bound on its own is refused: the accumulator
    # counts against the bound, but a call still takes at least one record.
    assert too_big == {i for i, v in enumerate(values) if len(v) > bound}
    total, bad = folded(values)
    assert int(result.accumulator) == folded(folded_in)[0]
    assert set(result.errors) - too_big == bad - too_big
    if bound >= max(map(len, values), default=0):
        assert not too_big and int(result.accumulator) == total
    assert sum(world.batches) == len(values) - len(too_big)


@given(numbers, numbers)
def test_merge_and_the_record_protocol(a: list[bytes], b: list[bytes]) -> None:
    plugin = fake(WasmColumnsAggregate, SumWorld())
    acc_a, out_a = plugin.aggregate_batch(plugin.init(), [Record(v) for v in a])
    acc_b, _ = plugin.aggregate_batch(plugin.init(), [Record(v) for v in b])
    assert [i for i, o in enumerate(out_a) if o is not None] == sorted(folded(a)[1])
    merged = plugin.merge(acc_a, acc_b)
    assert int(merged) == folded(a + b)[0]
    assert plugin.emit(merged) == [Record(value=merged, key=b"sum")]
    assert to_records(plugin.emit_columns(merged)) == [Record(value=merged, key=b"sum")]


def test_an_accumulator_over_the_bound_still_lets_records_through() -> None:
    world = SumWorld()
    plugin = fake(WasmColumnsAggregate, world, max_call_bytes=4)
    result = plugin.aggregate_columns(b"123456789", from_records([Record(b"1"), Record(b"2")]))
    assert (result.accumulator, result.errors) == (b"123456792", {})
    assert world.batches == [1, 1]  # one record per call, as the bound allows no more


def test_an_aggregate_error_index_out_of_range_is_refused() -> None:
    plugin = fake(WasmColumnsAggregate, SumWorld(bad_index=9))
    with pytest.raises(GuestContractError, match=r"plugin 'fake' \(stage 's1'\) broke the batch"):
        plugin.aggregate_columns(b"0", from_records([Record(b"1")]))


class ScriptWorld:
    """A source answering each `read` with the next scripted outcome."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.asked: list[int] = []

    def read(self, max: int) -> rt.Ok[Any]:
        self.asked.append(max)
        return rt.Ok(self.script.pop(0) if self.script else wit.ReadOutcomeEnd())


def records_outcome(*values: bytes) -> wit.ReadOutcomeRecords:
    return wit.ReadOutcomeRecords(to_wit_batch(from_records([Record(v) for v in values])))


def test_a_source_tells_pending_from_end() -> None:
    world = ScriptWorld([wit.ReadOutcomePending(), records_outcome(b"a"), wit.ReadOutcomeEnd()])
    source = fake(WasmColumnsSource, world)
    assert source.read_columns(10) is PENDING
    got = source.read_columns(10)
    assert isinstance(got, pa.RecordBatch) and got.column(1).to_pylist() == [b"a"]
    assert source.read_columns(10) is END


def test_read_keeps_asking_while_pending_and_ends_with_an_empty_list(monkeypatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(wasm_columns, "_pending_sleep", slept.append)
    world = ScriptWorld(
        [wit.ReadOutcomePending()] * 3 + [records_outcome(b"a"), records_outcome(b"b")]
    )
    source = fake(WasmColumnsSource, world)
    assert source.read(2) == [Record(b"a"), Record(b"b")]
    assert slept == [0.005, 0.01, 0.02]
    assert source.read(2) == []


def test_a_read_grows_its_asks_by_the_largest_record_seen() -> None:
    world = ScriptWorld(
        [records_outcome(b"abcd"), records_outcome(b"x", b"y"), records_outcome(b"z")]
    )
    source = fake(WasmColumnsSource, world, max_call_bytes=8)
    got = source.read_columns(5)
    assert isinstance(got, pa.RecordBatch)
    assert got.column(1).to_pylist() == [b"abcd", b"x", b"y", b"z"]
    assert world.asked == [1, 2, 2]  # 8 bytes / 4 per record; a short answer ends the read


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (wit.ReadOutcomeRecords(to_wit_batch(from_records([]))), "read 0 records"),
        (records_outcome(b"a", b"b"), "read 2 records when asked for at most 1"),
    ],
)
def test_a_source_answer_out_of_contract_is_refused(outcome: Any, message: str) -> None:
    source = fake(WasmColumnsSource, ScriptWorld([outcome]))
    with pytest.raises(GuestContractError, match=message):
        source.read_columns(1)


class SinkWorld:
    def __init__(self, bad: bytes = b"bad", extra: list[wit.RecordError] | None = None) -> None:
        self.written: list[bytes] = []
        self.bad = bad
        self.extra = extra or []

    def write_batch(self, records: wit.Batch) -> list[wit.RecordError]:
        values = values_of(records)
        self.written += values
        return [
            wit.RecordError(i, wit.PluginErrorIo("refused"))
            for i, v in enumerate(values)
            if v == self.bad
        ] + self.extra


@given(st.lists(st.sampled_from([b"a", b"bad", b"ccc"]), max_size=20), st.integers(1, 10))
def test_a_sink_reports_failures_at_their_index_across_calls(
    values: list[bytes], bound: int
) -> None:
    world = SinkWorld()
    sink = fake(WasmColumnsSink, world, max_call_bytes=bound)
    errors = sink.write_columns(from_records([Record(v) for v in values]))
    too_big = {i for i, v in enumerate(values) if len(v) > bound}
    assert {i for i, e in errors.items() if isinstance(e, RecordTooLarge)} == too_big
    assert {i for i, e in errors.items() if e.kind == "io"} == {
        i for i, v in enumerate(values) if v == b"bad" and i not in too_big
    }
    assert world.written == [v for i, v in enumerate(values) if i not in too_big]
    per_record = fake(WasmColumnsSink, SinkWorld(), max_call_bytes=bound).write_batch(
        [Record(v) for v in values]
    )
    assert {i for i, e in enumerate(per_record) if e is not None} == set(errors)


def test_unordered_sink_errors_are_refused() -> None:
    err = wit.PluginErrorIo("x")
    sink = fake(WasmColumnsSink, SinkWorld(extra=[wit.RecordError(0, err)]))
    with pytest.raises(GuestContractError, match="not strictly increasing"):
        sink.write_columns(from_records([Record(b"a"), Record(b"bad")]))


def test_the_0_2_call_bound_follows_memory_mb_and_caps_transforms() -> None:
    from dataflare.model import PluginKind
    from dataflare.plugins.call_bounds import (
        MIB,
        MIN_CALL_BYTES,
        RETURN_BYTES_V2,
        STRING_RETURN_LIMIT,
        call_bytes_v2,
    )

    assert call_bytes_v2(PluginKind.FILTER, None) == 32 * MIB
    assert call_bytes_v2(PluginKind.TRANSFORM, None) == 256 * MIB // 12
    assert call_bytes_v2(PluginKind.SINK, 1024 * MIB) == 128 * MIB
    assert call_bytes_v2(PluginKind.TRANSFORM, 4096 * MIB) == RETURN_BYTES_V2
    assert call_bytes_v2(PluginKind.FILTER, 1) == MIN_CALL_BYTES
    # What one call may return stays well under what wasmtime lets a call return.
    assert RETURN_BYTES_V2 < STRING_RETURN_LIMIT * 0.51  # about half: room for bigger outputs


class EchoWorld:
    """A filter keeping every record and a transform returning its batch as it came."""

    def __init__(self) -> None:
        self.seen: list[list[bytes]] = []

    def filter_batch(self, records: wit.Batch) -> wit.FilterOutcome:
        self.seen.append(values_of(records))
        n = len(records.values.ends)
        return wit.FilterOutcome(keep=b"\xff" * ((n + 7) // 8), errors=[])

    def transform_batch(self, records: wit.Batch) -> wit.TransformOutcome:
        self.seen.append(values_of(records))
        return wit.TransformOutcome(records=records, errors=[])


# A lone surrogate (JSON allows "\udcff") cannot be a WIT string: only its record fails.
LONE = "\udcff"
SCREEN_RECORDS = st.lists(
    st.builds(
        Record,
        value=st.binary(max_size=3),
        metadata=st.sampled_from([{}, {"m": "é"}, {"bad": LONE}, {LONE: "x", "a": "b"}]),
    ),
    max_size=8,
)


def _lone(record: Record) -> bool:
    return any(LONE in k or LONE in v for k, v in record.metadata.items())


@given(SCREEN_RECORDS)
def test_metadata_that_is_not_utf8_fails_only_its_record_in_a_filter(recs: list[Record]) -> None:
    world = EchoWorld()
    result = fake(wasm_columns.WasmColumnsFilter, world).filter_columns(from_records(recs))
    bad = [i for i, r in enumerate(recs) if _lone(r)]
    assert sorted(result.errors) == bad
    assert all(result.errors[i].kind == "serialization" for i in bad)  # type: ignore[union-attr]
    assert all("is not valid UTF-8" in str(result.errors[i]) for i in bad)
    assert result.keep.to_pylist() == [not _lone(r) for r in recs]
    assert world.seen in ([], [[r.value for r in recs if not _lone(r)]])


@given(SCREEN_RECORDS)
def test_metadata_that_is_not_utf8_fails_only_its_record_in_a_transform(
    recs: list[Record],
) -> None:
    world = EchoWorld()
    result = fake(wasm_columns.WasmColumnsTransform, world).transform_columns(from_records(recs))
    assert sorted(result.errors) == [i for i, r in enumerate(recs) if _lone(r)]
    out = to_records(result.batch)
    assert len(out) == len(recs)
    assert [o for i, o in enumerate(out) if i not in result.errors] == [
        r for r in recs if not _lone(r)
    ]
    per_record = fake(wasm_columns.WasmColumnsTransform, EchoWorld()).transform_batch(recs)
    assert [isinstance(o, Record) for o in per_record] == [not _lone(r) for r in recs]
