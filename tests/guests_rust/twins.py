"""Compare a guest component with its native twin in `dataflare.builtin`, outcome by outcome."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import PluginError
from dataflare.model import Record
from guests_rust.stock_host import StockGuest, from_wit, outcome, outcomes, to_wit

__all__ = ["check_count_sum", "check_json_filter", "check_mask_email", "native_outcome"]


def native_outcome(call: Callable[[], Any]) -> Any:
    """The native call's value, or the PluginError it raised."""
    try:
        return call()
    except PluginError as exc:
        return exc


def _guest(path: Path, params: dict[str, str]) -> StockGuest:
    guest = StockGuest(path)
    guest.configure(params)
    return guest


def check_json_filter(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Same decision or same plugin-error, one by one and as a batch."""
    native = JsonFilter()
    native.configure(params)
    guest = _guest(path, params)
    want = [native_outcome(lambda r=r: native.filter(r)) for r in records]
    got = [outcome(guest.raw("filter", to_wit(r))) for r in records]
    assert got == want, [r.value for r in records]
    assert outcomes(guest.raw("filter-batch", [to_wit(r) for r in records])) == want


def check_mask_email(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Same new record (byte for byte) or same plugin-error."""
    native = MaskEmail()
    native.configure(params)
    guest = _guest(path, params)
    want = [native_outcome(lambda r=r: native.transform(r)) for r in records]
    got = [_record(outcome(guest.raw("transform", to_wit(r)))) for r in records]
    assert got == want, [r.value for r in records]
    batch = outcomes(guest.raw("transform-batch", [to_wit(r) for r in records]))
    assert [_record(o) for o in batch] == want


def check_count_sum(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Same accumulator bytes, outcomes and emitted records, folding singly and in a batch."""
    native = CountSum()
    native.configure(params)
    guest = _guest(path, params)
    assert guest.raw("init") == native.init()
    acc_native, out_native = native.aggregate_batch(native.init(), records)
    fold = guest.raw("aggregate-batch", guest.raw("init"), [to_wit(r) for r in records])
    assert fold.accumulator == acc_native
    assert outcomes(fold.outcomes) == out_native
    acc = guest.raw("init")
    for r, want in zip(records, out_native, strict=True):
        result = outcome(guest.raw("aggregate", acc, to_wit(r)))
        if want is None:
            acc = result
        else:
            assert result == want
    assert acc == acc_native
    emitted = [from_wit(r) for r in guest.call("emit", acc)]
    assert emitted == native.emit(acc_native)


def _record(value: Any) -> Any:
    return value if isinstance(value, PluginError) else from_wit(value)
