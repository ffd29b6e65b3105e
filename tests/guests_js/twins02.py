"""Compare a 0.2 guest with its native twin in `dataflare.builtin`: record by record and as a batch.

Each check asks the guest three ways (the per-record export, the batch export,
and the batch export with every value forced into the `binary` list) and the
native plugin once; all four must give the same outcome for every record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import PluginError
from dataflare.model import Record
from guests_js.batch02 import decode_batch, decode_errors, decode_keep, encode_batch
from guests_js.guest02 import Guest02, bindings, result

__all__ = ["check_json_filter", "check_mask_email", "native_outcome", "to_wit"]


def native_outcome(call: Callable[[], Any]) -> Any:
    """The native call's value, or the PluginError it raised."""
    try:
        return call()
    except PluginError as exc:
        return exc


def to_wit(record: Record) -> Any:
    """`record` as the generated `types.Record`."""
    wit = bindings("types")
    return wit.Record(
        key=record.key,
        value=record.value,
        timestamp=record.timestamp,
        metadata=list(record.metadata.items()),
    )


def _batches(records: Sequence[Record]) -> list[Any]:
    wit = bindings("types")
    return [
        encode_batch(wit, records),
        encode_batch(wit, records, force_binary=range(len(records))),
    ]


def check_json_filter(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Same decision or same plugin-error, one by one and as a batch."""
    native = JsonFilter()
    native.configure(params)
    guest = Guest02(path, "filter")
    guest.configure(params)
    want = [native_outcome(lambda r=r: native.filter(r)) for r in records]
    got = [result(guest.world.filter(to_wit(r))) for r in records]
    assert got == want, [r.value for r in records]
    n = len(records)
    for batch in _batches(records):
        out = guest.world.filter_batch(batch)
        errors = decode_errors(out.errors, n)
        keep = decode_keep(out.keep, n)
        assert [errors.get(i, keep[i]) for i in range(n)] == want


def check_mask_email(path: Path, params: dict[str, str], records: Sequence[Record]) -> None:
    """Same new record (byte for byte) or same plugin-error; failed records leave placeholders."""
    native = MaskEmail()
    native.configure(params)
    guest = Guest02(path, "transform")
    guest.configure(params)
    want = [native_outcome(lambda r=r: native.transform(r)) for r in records]
    got = [_record(result(guest.world.transform(to_wit(r)))) for r in records]
    assert got == want, [r.value for r in records]
    n = len(records)
    for batch in _batches(records):
        out = guest.world.transform_batch(batch)
        errors = decode_errors(out.errors, n)
        rows = decode_batch(out.records)
        assert [errors.get(i, rows[i]) for i in range(n)] == want
        assert all(rows[i] == Record(value=b"") for i in errors), "placeholders are empty"


def _record(value: Any) -> Any:
    if isinstance(value, PluginError):
        return value
    return Record(
        value=value.value, key=value.key, timestamp=value.timestamp, metadata=dict(value.metadata)
    )
