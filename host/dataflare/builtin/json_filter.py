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
"""

from __future__ import annotations

from collections.abc import Mapping

from dataflare.builtin._json import JsonValue, json_equal, parse_json, parse_object
from dataflare.errors import SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import FilterBase
from dataflare.plugins.registry import register

__all__ = ["JsonFilter"]

_NO_MATCH = object()


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
