"""bench/stock_call.py: the stock baseline of `make bench` (a) lowers the generated
bindings' 0.2 values for wasmtime-py, and `plain` lets its answer be compared with
the fast path's (a `text` as `str` on one side and UTF-8 bytes on the other)."""

from __future__ import annotations

import sys
from pathlib import Path

from dataflare._wit import types as wit
from hypothesis import given
from hypothesis import strategies as st
from wasmtime.component import Record as WasmRecord

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from stock_call import lower, plain


def _batch(texts: list[str], as_bytes: bool) -> wit.Batch:
    ends, end = [], 0
    for t in texts:
        end += len(t.encode())
        ends.append(end)
    text: object = "".join(texts).encode() if as_bytes else "".join(texts)
    column = wit.BytesColumn(text=text, ends=ends, binary=[(0, b"\xff")], absent=[])  # type: ignore[arg-type]
    pairs = [0] if texts else []
    meta = wit.MetadataColumn(
        pairs,
        wit.StringColumn("k" * len(pairs), [1] * len(pairs)),
        wit.StringColumn("v" * len(pairs), [1] * len(pairs)),
    )
    return wit.Batch(values=column, keys=None, timestamps=None, metadata=meta)


@given(st.lists(st.text(max_size=8), max_size=5))
def test_lowered_fields_are_wasmtime_records_by_wit_name(texts: list[str]) -> None:
    low = lower(_batch(texts, as_bytes=False))
    assert isinstance(low, WasmRecord)
    assert isinstance(low.values, WasmRecord)
    assert low.values.text == "".join(texts)
    assert low.values.binary == [(0, b"\xff")]
    assert low.keys is None


@given(st.lists(st.text(max_size=8), max_size=5))
def test_plain_equates_str_and_utf8_bytes_text_and_wasmtime_records(texts: list[str]) -> None:
    as_str, as_bytes = _batch(texts, as_bytes=False), _batch(texts, as_bytes=True)
    assert plain(as_str) == plain(as_bytes) == plain(lower(as_str))


def test_plain_tells_different_batches_apart() -> None:
    assert plain(_batch(["a", "b"], as_bytes=True)) != plain(_batch(["a", "c"], as_bytes=True))
