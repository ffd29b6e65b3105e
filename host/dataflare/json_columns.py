"""Checking a whole column of values for being one JSON document each, at C speed.

`jsonio.check_document` decides one value in Python's `json` (about 1 us for
a 64-byte object). A JSON Lines file checks every line, so a column is
checked in bulk instead, and only values the bulk check cannot vouch for go
through `check_document` one by one, which keeps its verdicts and messages:

* msgspec skims the column joined one value per line into `msgspec.Raw`
  spans without building any value. The spans are trusted only if there is
  one per value, each exactly as long as its value, and no value starts with
  whitespace: then span i starts where value i starts and so is value i (a
  value such as ``1 2`` or an unclosed ``[`` cannot shift the others into
  place without changing some length). Other values are skimmed one by one.
* Arrow checks UTF-8 (msgspec does not look inside strings).
* Values Python's `json` may decide differently are always checked by it:
  ones that msgspec refuses (Python also takes ``NaN``, lone ``\\ud800``
  escapes, ...), deep ones (each library has its own nesting limit), and
  integers longer than Python's `sys.get_int_max_str_digits`.

So a value passes here exactly when `check_document` passes it.

A batch whose values were all checked this way can say so in its schema
metadata (`mark_checked`), so a later stage (the JSON Lines sink) need not
check them again (`is_checked`). The executor drops that metadata from any
batch a transform returns, so the mark survives only stages that cannot
change a value (filters).
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dataflare import jsonio
from dataflare.errors import SerializationError

__all__ = ["SAFE_OPENERS", "document_failures", "is_checked", "mark_checked"]

SAFE_OPENERS = 800
"""Values with more ``[``/``{`` than this are checked by Python.

msgspec and Python's `json` both stop at the interpreter's recursion limit
(1,000 by default), a few frames apart, so they may disagree only on values
nested nearly that deep. Only values longer than twice this can nest deeper,
so shorter ones are not even counted.
"""

_SPAN = msgspec.json.Decoder(msgspec.Raw)
_WHITESPACE = np.zeros(256, bool)
_WHITESPACE[list(b" \t\n\r")] = True
_DIGITS_TO_ZERO = bytes(ord("0") if chr(b).isdigit() and b < 128 else ord("x") for b in range(256))


_CHECKED = {b"dataflare.values": b"json"}


def mark_checked(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch`, marked as holding only values that are one JSON document each."""
    return batch.replace_schema_metadata(_CHECKED)


def is_checked(batch: pa.RecordBatch) -> bool:
    """Whether `batch` carries the mark of `mark_checked`."""
    metadata = batch.schema.metadata
    return metadata is not None and metadata.get(b"dataflare.values") == b"json"


def document_failures(values: pa.Array[Any]) -> dict[int, ValueError | SerializationError]:
    """Row -> why it is not one JSON document (as `jsonio.check_document` says), for a
    binary column; empty when every value is one."""
    n = len(values)
    if n == 0:
        return {}
    failures: dict[int, ValueError | SerializationError] = {}
    for row in _suspects(values):
        value = values[row].as_py()
        try:
            jsonio.check_document(value)
        except (ValueError, SerializationError) as exc:
            failures[row] = exc
    return failures


def _suspects(values: pa.Array[Any]) -> list[int]:
    """Rows the bulk check cannot vouch for, in order."""
    n = len(values)
    try:
        values.view(pa.string()).validate(full=True)
    except pa.ArrowInvalid:
        return list(range(n))  # rare: let Python find which rows
    offsets = np.frombuffer(values.buffers()[1], np.int32, n + 1, values.offset * 4)
    lengths = np.diff(offsets)
    data = np.frombuffer(values.buffers()[2], np.uint8)
    # one value per line, in one buffer msgspec reads in place
    lines = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), values), b"\n")
    try:
        spans = _SPAN.decode_lines(memoryview(lines[0].as_buffer()))
    except (msgspec.DecodeError, RecursionError):  # RecursionError: msgspec's depth limit
        spans = None
    if spans is not None and len(spans) == n:
        skimmed = np.fromiter(map(len, spans), np.int64, n)
        # Spans are values separated by whitespace: with as many spans as values, each as
        # long as its value and no value starting with whitespace, span i is value i.
        first = data[np.minimum(offsets[:-1], max(len(data) - 1, 0))] if len(data) else None
        spaced = _WHITESPACE[first] & (lengths > 0) if first is not None else False
        odd = np.flatnonzero((skimmed != lengths) | spaced)
    else:
        odd = np.arange(n)
    suspect = np.zeros(n, bool)
    for row in odd.tolist():
        try:
            _SPAN.decode(values[row].as_py())
        except (msgspec.DecodeError, RecursionError):
            suspect[row] = True
    limit = sys.get_int_max_str_digits()
    long = lengths > min(2 * SAFE_OPENERS, limit or 2 * SAFE_OPENERS)
    for row in np.flatnonzero(long).tolist():
        if suspect[row]:
            continue
        value = values[row].as_py()
        if value.count(b"[") + value.count(b"{") > SAFE_OPENERS or (
            limit and len(value) > limit and b"0" * (limit + 1) in value.translate(_DIGITS_TO_ZERO)
        ):
            suspect[row] = True
    return np.flatnonzero(suspect).tolist()
