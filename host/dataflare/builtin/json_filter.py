"""`filter/json_filter`: keep records whose JSON field equals a value.

Parameters: ``field`` (required), a top-level key (dots are not paths);
``value`` (required), the value to match.

For each record (JSON decoding as in `dataflare.builtin._json`):

1. The value must decode to a JSON object, else ``SerializationError``
   ("value is not valid JSON" / "value is not a JSON object").
2. The object has no key ``field``: drop.
3. ``field`` holds a string: keep iff it equals ``value`` code point for
   code point (``value`` is taken as raw text, never as JSON).
4. Otherwise ``value`` is decoded as JSON by the same rules; keep iff that
   succeeds and the result equals the field's value by `json_equal`
   (so ``value="1"`` matches ``1``, ``1.0`` and ``1e0``; ``value="true"``
   matches `true`; ``value='{"a":[1]}'`` matches that object).

Key, timestamp and metadata are not looked at.

`filter_columns` decides a whole batch with msgspec's decoder (several
times faster than the rules' Python decoder) wherever the outcome is
bound to be the same: msgspec refuses everything those rules refuse
except nesting deeper than `MAX_DEPTH` and integers too big for a double,
which need long values: values of `_SURE_BELOW` bytes or more with more
than `MAX_DEPTH` brackets or `_SURE_BELOW` digits, and every value msgspec
refuses, go through `filter` itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import pyarrow as pa

from dataflare.builtin._json import (
    MAX_DEPTH,
    NOT_AN_OBJECT,
    JsonValue,
    json_equal,
    parse_json,
    parse_object,
)
from dataflare.columns import FilterResult, RecordError
from dataflare.errors import PluginError, SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import FilterBase
from dataflare.plugins.registry import register

__all__ = ["JsonFilter"]

_NO_MATCH = object()
_DECODE = msgspec.json.Decoder().decode
_SURE_BELOW = 309
"""Shorter values can neither nest past MAX_DEPTH nor hold an integer of 1e308 or more."""
_DIGITS = b"0123456789"


def _as_rules(value: JsonValue) -> JsonValue:
    """A msgspec-decoded value as the rules decode it: every number a float."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [_as_rules(v) for v in value]
    return {k: _as_rules(v) for k, v in value.items()}


@register("filter", "json_filter")
class JsonFilter(FilterBase):
    """Keep records whose JSON object has `field` equal to `value`."""

    params = (
        ParamInfo("field", "top-level key of the JSON object to compare", required=True),
        ParamInfo(
            "value", "the value to keep; raw text for strings, JSON otherwise", required=True
        ),
    )

    def __init__(self) -> None:
        super().__init__()
        self._as_json: JsonValue = _NO_MATCH

    def configure(self, config: Mapping[str, str]) -> None:
        """Validate parameters and decode `value` once for non-string fields."""
        super().configure(config)
        try:
            self._as_json = parse_json(self.param("value").encode("utf-8"))
        except (SerializationError, UnicodeEncodeError):
            self._as_json = _NO_MATCH

    def filter_columns(self, batch: pa.RecordBatch) -> FilterResult:
        """`filter` on every row, mostly without the Python JSON decoder (see module doc)."""
        field, wanted = self.param("field"), self.param("value")
        keep: list[bool] = []
        errors: dict[int, RecordError] = {}
        for row, value in enumerate(batch.column(1).to_pylist()):
            try:
                keep.append(self._decide(value, field, wanted))
            except PluginError as exc:
                keep.append(False)
                errors[row] = exc
        return FilterResult(pa.array(keep, pa.bool_()), errors)

    def _decide(self, value: bytes, field: str, wanted: str) -> bool:
        if len(value) >= _SURE_BELOW and (
            value.count(b"[") + value.count(b"{") > MAX_DEPTH
            # fewer digits in all than a too-big integer needs: none can be one
            or len(value) - len(value.translate(None, _DIGITS)) >= _SURE_BELOW
        ):
            return self.filter(Record(value))
        try:
            obj = _DECODE(value)
        except (msgspec.DecodeError, RecursionError):
            return self.filter(Record(value))  # invalid, or valid only by the rules
        if not isinstance(obj, dict):
            raise SerializationError(NOT_AN_OBJECT)
        if field not in obj:
            return False
        found = obj[field]
        if isinstance(found, str):
            return found == wanted
        return self._as_json is not _NO_MATCH and json_equal(_as_rules(found), self._as_json)

    def filter(self, record: Record) -> bool:
        """Keep iff the record's object has `field` equal to `value` (see module doc)."""
        obj = parse_object(record.value)
        field = self.param("field")
        if field not in obj:
            return False
        found = obj[field]
        if isinstance(found, str):
            return found == self.param("value")
        return self._as_json is not _NO_MATCH and json_equal(found, self._as_json)
