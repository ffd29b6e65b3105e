"""`aggregate/count_sum`: count records and sum a numeric field per group.

Parameters: ``group_by`` (required) and ``sum_field`` (required), top-level keys.

Folding one record (JSON rules in `dataflare.builtin._json`):

1. The value must decode to a JSON object, else ``SerializationError``
   ("value is not valid JSON" / "value is not a JSON object").
2. ``group_by`` absent: ``ProcessingError`` (``missing field "<group_by>"``).
   The group is the field's string, or for any other JSON value its
   canonical encoding (so ``"1"`` and ``1`` share group ``1``, and `null`
   is group ``null``).
3. ``sum_field`` absent: ``ProcessingError`` (``missing field "<sum_field>"``);
   present but not a number (`true` is not a number):
   ``ProcessingError`` (``field "<sum_field>" is not a number``).
4. The group's count grows by 1 and its sum by the number, in IEEE-754
   double arithmetic in record order. A sum that becomes infinite is
   ``ProcessingError`` (``sum of field "<sum_field>" overflows``).
5. A record that fails leaves the accumulator unchanged.

The accumulator is the canonical (RFC 8785) encoding of
``{"<group>": {"count": n, "sum": s}, ...}``; `init` is ``{}``. An
accumulator this plugin did not produce is a ``SerializationError``
("accumulator is not valid").

`merge(a, b)` joins accumulators folded over two parts of a stream (``a``
the earlier): per group the counts add and the sums add (a sum that becomes
infinite is the overflow error above), groups in only one part are kept. So
the accumulator of a split stream, merged, emits what one fold emits whenever
the sums are exact in doubles (integers up to 2**53, as amounts in cents
are); otherwise the last bits of a sum may differ, as any regrouping of
floating-point additions may.

`emit` gives one record per group, ordered by the group's UTF-16 code
units (the canonical key order): key = the group as UTF-8, value =
canonical ``{"count": n, "group": "<group>", "sum": s}``, no timestamp, no
metadata.
"""

from __future__ import annotations

import math

from dataflare.builtin._json import JsonValue, canonical, parse_json, parse_object
from dataflare.errors import ProcessingError, SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import AggregateBase
from dataflare.plugins.registry import register

__all__ = ["CountSum"]

_BAD_ACC = "accumulator is not valid"


@register("aggregate", "count_sum")
class CountSum(AggregateBase):
    """Count records and sum a numeric field per group."""

    params = (
        ParamInfo("group_by", "top-level key whose value names the group", required=True),
        ParamInfo("sum_field", "top-level key of the number to sum", required=True),
    )

    def init(self) -> bytes:
        """No groups yet."""
        return b"{}"

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        """Fold `record` into its group."""
        groups = _groups(acc)
        obj = parse_object(record.value)
        group_by, sum_field = self.param("group_by"), self.param("sum_field")
        if group_by not in obj:
            raise ProcessingError(f'missing field "{group_by}"')
        if sum_field not in obj:
            raise ProcessingError(f'missing field "{sum_field}"')
        number = obj[sum_field]
        if not isinstance(number, float):
            raise ProcessingError(f'field "{sum_field}" is not a number')
        group = _group_name(obj[group_by])
        count, total = groups.get(group, (0.0, 0.0))
        total += number
        if not math.isfinite(total):
            raise ProcessingError(f'sum of field "{sum_field}" overflows')
        groups[group] = (count + 1, total)
        return canonical({g: {"count": c, "sum": s} for g, (c, s) in groups.items()})

    def merge(self, a: bytes, b: bytes) -> bytes:
        """The groups of `a` and `b` together, counts and sums added."""
        groups = _groups(a)
        for group, (count, total) in _groups(b).items():
            had_count, had_total = groups.get(group, (0.0, 0.0))
            total += had_total
            if not math.isfinite(total):
                raise ProcessingError(f'sum of field "{self.param("sum_field")}" overflows')
            groups[group] = (had_count + count, total)
        return canonical({g: {"count": c, "sum": s} for g, (c, s) in groups.items()})

    def emit(self, acc: bytes) -> list[Record]:
        """One record per group, in canonical key order."""
        groups = _groups(acc)
        ordered = sorted(groups, key=lambda g: g.encode("utf-16-be"))
        return [
            Record(
                key=g.encode("utf-8"),
                value=canonical({"count": groups[g][0], "group": g, "sum": groups[g][1]}),
            )
            for g in ordered
        ]


def _group_name(value: JsonValue) -> str:
    return value if isinstance(value, str) else canonical(value).decode("utf-8")


def _groups(acc: bytes) -> dict[str, tuple[float, float]]:
    try:
        decoded = parse_json(acc)
    except SerializationError:
        raise SerializationError(_BAD_ACC) from None
    if not isinstance(decoded, dict):
        raise SerializationError(_BAD_ACC)
    groups: dict[str, tuple[float, float]] = {}
    for group, entry in decoded.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("count"), float)
            and isinstance(entry.get("sum"), float)
        ):
            raise SerializationError(_BAD_ACC)
        groups[group] = (entry["count"], entry["sum"])
    return groups
