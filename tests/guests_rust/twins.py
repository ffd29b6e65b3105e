"""Compare a 0.2 guest component with its native twin in `dataflare.builtin`, outcome by outcome.

Each check calls the single-record export and the columnar batch export of
the guest, and both must give what the native plugin gives record by record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dataflare.abi import rt
from dataflare.builtin._json import canonical
from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import PluginError
from dataflare.model import Record
from guests_rust.wit02 import Guest02, bindings, from_batch, keeps, plain, to_batch, unwrap

__all__ = [
    "check_count_sum",
    "check_json_filter",
    "check_mask_email",
    "from_wit",
    "native_outcome",
    "to_wit",
]


def native_outcome(call: Callable[[], Any]) -> Any:
    """The native call's value, or the PluginError it raised."""
    try:
        return call()
    except PluginError as exc:
        return exc


def to_wit(record: Record) -> Any:
    """A model Record as the generated 0.2 `record`."""
    return bindings().types.Record(
        record.key, record.value, record.timestamp, list(record.metadata.items())
    )


def from_wit(record: Any) -> Record:
    """A generated `record` as the model's Record."""
    return Record(
        value=record.value,
        key=record.key,
        timestamp=record.timestamp,
        metadata=dict(record.metadata),
    )


def outcome(result: Any) -> Any:
    """A generated result's Ok value, or its error as PluginError."""
    if isinstance(result, rt.Err):
        return plain(result.value)
    return result.value


def _guest(path: Path, world: str, params: dict[str, str]) -> Guest02:
    guest = Guest02(path, world)
    guest.configure(params)
    return guest


def _errors(errors: Sequence[Any]) -> dict[int, PluginError]:
    indices = [e.index for e in errors]
    assert indices == sorted(set(indices)), indices
    return {e.index: plain(e.error) for e in errors}


def check_json_filter(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Same decision or same plugin-error, one by one and as a columnar batch."""
    native = JsonFilter()
    native.configure(params)
    guest = _guest(path, "filter", params)
    want = [native_outcome(lambda r=r: native.filter(r)) for r in records]
    got = [outcome(guest.world.filter(to_wit(r))) for r in records]
    assert got == want, [r.value for r in records]
    out = guest.world.filter_batch(to_batch(records))
    failed = _errors(out.errors)
    bits = keeps(out.keep, len(records))
    assert [failed.get(i, bits[i]) for i in range(len(records))] == want


def check_mask_email(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Same new record (byte for byte) or same plugin-error, singly and as a batch."""
    native = MaskEmail()
    native.configure(params)
    guest = _guest(path, "transform", params)
    want = [native_outcome(lambda r=r: native.transform(r)) for r in records]
    got = [_record(outcome(guest.world.transform(to_wit(r)))) for r in records]
    assert got == want, [r.value for r in records]
    out = guest.world.transform_batch(to_batch(records))
    failed = _errors(out.errors)
    produced = from_batch(out.records)
    assert len(produced) == len(records)
    for i in failed:
        assert produced[i] == Record(value=b""), "a failed record's place holds an empty record"
    assert [failed.get(i, produced[i]) for i in range(len(records))] == want


def exact_emit(
    native: CountSum, records: Sequence[Record], outcomes: Sequence[Any], acc: bytes
) -> list[Record]:
    """The native emit with each group's sum recomputed by `math.fsum` (an independent oracle).

    Each folded record's group and number come from folding it alone natively.
    """
    numbers: dict[str, list[float]] = {}
    for r, failed in zip(records, outcomes, strict=True):
        if failed is None:
            ((name, entry),) = json.loads(native.aggregate(b"{}", r)).items()
            numbers.setdefault(name, []).append(entry["sum"])
    out = []
    for rec in native.emit(acc):
        body = json.loads(rec.value)
        body["sum"] = math.fsum(numbers.get(body["group"], []))
        out.append(Record(value=canonical(body), key=rec.key))
    return out


def check_count_sum(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Byte for byte the native accumulators, outcomes and records: folds, emits and merges.

    The sums are also checked against `math.fsum` of each group's numbers.
    """
    native = CountSum()
    native.configure(params)
    guest = _guest(path, "aggregate", params)
    world = guest.world
    assert world.init() == native.init()
    acc_native, out_native = native.aggregate_batch(native.init(), records)
    fold = world.aggregate_batch(world.init(), to_batch(records))
    failed = _errors(fold.errors)
    assert [failed.get(i) for i in range(len(records))] == out_native
    assert fold.accumulator == acc_native
    acc = world.init()
    for r, want in zip(records, out_native, strict=True):
        result = outcome(world.aggregate(acc, to_wit(r)))
        if want is None:
            acc = result
        else:
            assert result == want
    assert acc == acc_native
    emitted = from_batch(unwrap(world.emit(acc)))
    assert emitted == native.emit(acc_native)
    assert emitted == exact_emit(native, records, out_native, acc_native)
    if any(o is not None and "overflows" in str(o) for o in out_native):
        return  # a fold that skipped a record for overflow cannot be split and merged
    for cut in range(len(records) + 1):
        left = world.aggregate_batch(world.init(), to_batch(records[:cut])).accumulator
        right = world.aggregate_batch(world.init(), to_batch(records[cut:])).accumulator
        assert (left, right) == (
            native.aggregate_batch(native.init(), records[:cut])[0],
            native.aggregate_batch(native.init(), records[cut:])[0],
        )
        merged = unwrap(world.merge(left, right))
        assert merged == native.merge(left, right), f"split at {cut}"
        assert from_batch(unwrap(world.emit(merged))) == emitted, f"split at {cut}"


def _record(value: Any) -> Any:
    return value if isinstance(value, PluginError) else from_wit(value)
