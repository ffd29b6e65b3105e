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
4. The group's count grows by 1 and the number is added to its sum exactly,
   as Shewchuk non-overlapping partials (`dataflare.builtin._exact_sum`, the
   `math.fsum` recipe). A sum that overflows (a partial, or the exact sum
   correctly rounded, is infinite) is ``ProcessingError``
   (``sum of field "<sum_field>" overflows``).
5. A record that fails leaves the accumulator unchanged.

Why exact: floating-point addition is not associative, so a sum kept as
one double in record order would, folded in parts and merged, differ from
one fold in the last bits. With exact sums any split merges to what one
fold emits.

The accumulator is the canonical (RFC 8785) encoding of
``{"<group>": {"count": n, "sum": s}, ...}`` where ``s`` is the exact sum
correctly rounded; when the exact sum is not one double the entry also has
``"partials": [...]`` (non-zero, smallest magnitude first). An entry without
``partials`` stands for exactly ``s``, so accumulators of exact sums are the
0.1 encoding byte for byte. `init` is ``{}``. This is the format of the Rust
and Python guests too (the Rust guest's is the reference), so accumulators
are interchangeable. An accumulator that is not of this form, or whose
``sum`` is not its partials' rounded sum, is a ``SerializationError``
("accumulator is not valid").

`merge(a, b)` joins accumulators folded over two parts of a stream (``a``
the earlier): per group the counts add and ``b``'s partials are added to
``a``'s exactly, in order (overflow is the error above); groups in only one
part are kept. The merged partials may differ from one fold's (they depend
on the order of additions) but stand for the same exact sum, so `emit`
gives the same records.

`emit` gives one record per group, ordered by the group's UTF-16 code
units (the canonical key order): key = the group as UTF-8, value =
canonical ``{"count": n, "group": "<group>", "sum": s}``, no timestamp, no
metadata.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from dataflare.builtin._exact_sum import add_exact, round_exact
from dataflare.builtin._json import JsonValue, canonical, parse_json, parse_object
from dataflare.errors import PluginError, ProcessingError, SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import AggregateBase
from dataflare.plugins.kinds import BatchFold
from dataflare.plugins.registry import register

__all__ = ["CountSum"]

_BAD_ACC = "accumulator is not valid"


@dataclass
class _Group:
    """One group: how many records, and their sum as exact partials."""

    count: float = 0.0
    partials: list[float] = field(default_factory=list)


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
        groups = _decode(acc)
        self._fold(groups, record)
        return _encode(groups)

    def aggregate_batch(self, acc: bytes, records: Sequence[Record]) -> BatchFold:
        """Fold records in order, decoding and encoding the accumulator once per batch."""
        try:
            groups = _decode(acc)
        except SerializationError as exc:
            return acc, [exc] * len(records)
        outcomes: list[PluginError | None] = []
        for record in records:
            try:
                self._fold(groups, record)
            except PluginError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        if all(o is not None for o in outcomes):
            return acc, outcomes  # nothing folded: the accumulator stays the caller's bytes
        return _encode(groups), outcomes

    def merge(self, a: bytes, b: bytes) -> bytes:
        """The groups of `a` and `b` together: counts added, sums added exactly."""
        groups = _decode(a)
        for name, group in _decode(b).items():
            into = groups.setdefault(name, _Group())
            into.count += group.count
            for p in group.partials:
                if not add_exact(into.partials, p):
                    raise self._overflow()
            if not math.isfinite(round_exact(into.partials)):
                raise self._overflow()
        return _encode(groups)

    def emit(self, acc: bytes) -> list[Record]:
        """One record per group, in canonical key order."""
        groups = _decode(acc)
        ordered = sorted(groups, key=lambda g: g.encode("utf-16-be"))
        return [
            Record(
                key=name.encode("utf-8"),
                value=canonical(
                    {
                        "count": groups[name].count,
                        "group": name,
                        "sum": round_exact(groups[name].partials),
                    }
                ),
            )
            for name in ordered
        ]

    def _fold(self, groups: dict[str, _Group], record: Record) -> None:
        """Fold one record into `groups` in place; on error `groups` is unchanged."""
        obj = parse_object(record.value)
        group_by, sum_field = self.param("group_by"), self.param("sum_field")
        if group_by not in obj:
            raise ProcessingError(f'missing field "{group_by}"')
        if sum_field not in obj:
            raise ProcessingError(f'missing field "{sum_field}"')
        number = obj[sum_field]
        if not isinstance(number, float):
            raise ProcessingError(f'field "{sum_field}" is not a number')
        name = _group_name(obj[group_by])
        had = groups.get(name, _Group())
        partials = list(had.partials)
        if not add_exact(partials, number) or not math.isfinite(round_exact(partials)):
            raise self._overflow()
        groups[name] = _Group(had.count + 1, partials)

    def _overflow(self) -> ProcessingError:
        return ProcessingError(f'sum of field "{self.param("sum_field")}" overflows')


def _group_name(value: JsonValue) -> str:
    return value if isinstance(value, str) else canonical(value).decode("utf-8")


def _decode(acc: bytes) -> dict[str, _Group]:
    try:
        decoded = parse_json(acc)
    except SerializationError:
        raise SerializationError(_BAD_ACC) from None
    if not isinstance(decoded, dict):
        raise SerializationError(_BAD_ACC)
    groups: dict[str, _Group] = {}
    for name, entry in decoded.items():
        if not isinstance(entry, dict):
            raise SerializationError(_BAD_ACC)
        count, total = entry.get("count"), entry.get("sum")
        if not (isinstance(count, float) and isinstance(total, float)):
            raise SerializationError(_BAD_ACC)
        # No partials: the entry stands for exactly `sum`.
        listed = entry.get("partials", [total])
        if not isinstance(listed, list):
            raise SerializationError(_BAD_ACC)
        partials = [p for p in listed if isinstance(p, float)]
        if len(partials) != len(listed) or round_exact(partials) != total:
            raise SerializationError(_BAD_ACC)
        groups[name] = _Group(count, partials)
    return groups


def _encode(groups: dict[str, _Group]) -> bytes:
    entries: dict[str, JsonValue] = {}
    for name, group in groups.items():
        entry: dict[str, JsonValue] = {
            "count": group.count,
            "sum": round_exact(group.partials),
        }
        nonzero: list[JsonValue] = [p for p in group.partials if p != 0.0]
        if len(nonzero) > 1:
            entry["partials"] = nonzero
        entries[name] = entry
    return canonical(entries)
