"""The count-and-sum aggregate as a WebAssembly component (world `aggregate`).

Counts records and sums `sum_field` per value of `group_by`. The
accumulator is canonical JSON {"<group>": {"count": n, "sum": s}}, byte for
byte the same as the native twin's (`host/dataflare/builtin/count_sum.py`,
which documents the exact rules), so the two can even continue each
other's folds.
"""

import math

import dfjson
import guestkit
import wit_world
from componentize_py_types import Err, Ok
from wit_world.imports import types

NAME = "count_sum"
PARAMS = [
    types.ParamInfo("group_by", "top-level key whose value names the group", True, None),
    types.ParamInfo("sum_field", "top-level key of the number to sum", True, None),
]
BAD_ACC = "accumulator is not valid"

params = guestkit.Params(NAME, PARAMS)


def load_groups(acc):
    """{group: [count, sum]} from an accumulator; raises `Err(serialization)`."""
    try:
        decoded = dfjson.loads_object(acc)
    except dfjson.JsonError:
        raise guestkit.serialization(BAD_ACC) from None
    groups = {}
    for group, entry in decoded.items():
        if not isinstance(entry, dict):
            raise guestkit.serialization(BAD_ACC)
        count, total = entry.get("count"), entry.get("sum")
        if not (isinstance(count, float) and isinstance(total, float)):
            raise guestkit.serialization(BAD_ACC)
        groups[group] = [count, total]
    return groups


def dump_groups(groups):
    return dfjson.dumps({g: {"count": c, "sum": s} for g, (c, s) in groups.items()})


def fold(groups, record):
    """Fold one record into `groups` in place; raises `Err(plugin-error)` untouched."""
    try:
        obj = dfjson.loads_object(record.value)
    except dfjson.JsonError as exc:
        raise guestkit.serialization(exc.args[0]) from None
    group_by, sum_field = params.get("group_by"), params.get("sum_field")
    if group_by not in obj:
        raise guestkit.processing(f'missing field "{group_by}"')
    if sum_field not in obj:
        raise guestkit.processing(f'missing field "{sum_field}"')
    number = obj[sum_field]
    if not isinstance(number, float):
        raise guestkit.processing(f'field "{sum_field}" is not a number')
    group = obj[group_by]
    if not isinstance(group, str):
        group = dfjson.dumps(group).decode("utf-8")
    count, total = groups.get(group, [0.0, 0.0])
    total = total + number
    if math.isinf(total):
        raise guestkit.processing(f'sum of field "{sum_field}" overflows')
    groups[group] = [count + 1, total]


class WitWorld(wit_world.WitWorld):
    def describe(self):
        return types.PluginInfo(
            NAME,
            "0.1.0",
            types.PluginKind.AGGREGATE,
            "Count records and sum a numeric field per group.",
            PARAMS,
        )

    def configure(self, config):
        params.configure(config)
        group_by, sum_field = params.get("group_by"), params.get("sum_field")
        guestkit.debug(f"count_sum: grouping by {group_by!r}, summing {sum_field!r}")

    def init(self):
        return b"{}"

    def aggregate(self, acc, record):
        groups = load_groups(acc)
        fold(groups, record)
        return dump_groups(groups)

    def aggregate_batch(self, acc, records):
        # Decode and encode the accumulator once per batch, not per record.
        try:
            groups = load_groups(acc)
        except Err as err:
            # Every record fails alone, as it would fed one at a time.
            return types.BatchFold(acc, [err for _ in records])
        outcomes = []
        for record in records:
            try:
                fold(groups, record)
            except Err as err:
                outcomes.append(err)
            else:
                outcomes.append(Ok(None))
        guestkit.debug(f"count_sum: batch of {len(records)} records, {len(groups)} groups")
        return types.BatchFold(dump_groups(groups), outcomes)

    def emit(self, acc):
        groups = load_groups(acc)
        out = []
        for group in sorted(groups, key=dfjson.sort_key):
            count, total = groups[group]
            value = dfjson.dumps({"count": count, "group": group, "sum": total})
            out.append(types.Record(group.encode("utf-8"), value, None, []))
        return out
