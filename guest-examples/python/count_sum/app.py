"""The count-and-sum aggregate as a WebAssembly component (world `aggregate`).

Counts records and sums `sum_field` per value of `group_by`, by the rules of
the native twin (`host/dataflare/builtin/count_sum.py`) for which records
count and which fail, with one change that `merge` needs: the sum is exact.

Why exact: double addition is not associative, so a sum kept as a double in
record order gives a different last bit when the stream is folded in parts
and merged. This guest keeps each group's sum exactly (as an integer number
of 2**-1074, the smallest double step, so every double is a whole number of
them) and rounds once, in `emit`, to the nearest double (ties to even). Then
folding in any split and merging emits exactly what one fold emits. A record
fails with `sum of field "<sum_field>" overflows` when it would make its
group's exact sum round to infinity (the accumulator is left unchanged);
`merge` fails the same way.

The accumulator is the canonical (RFC 8785) JSON of
{"<group>": {"count": n, "sum": [d1, d2, ...]}}: the exact sum as doubles
whose exact total it is, each the nearest double to what the earlier ones
leave, largest first (so one double when the sum is one; [] for zero).
"""

import dfbatch
import dfjson
import guestkit
import wit_world
from componentize_py_types import Err
from wit_world.imports import types

NAME = "count_sum"
PARAMS = [
    types.ParamInfo("group_by", "top-level key whose value names the group", True, None),
    types.ParamInfo("sum_field", "top-level key of the number to sum", True, None),
]
BAD_ACC = "accumulator is not valid"

params = guestkit.Params(NAME, PARAMS)


_STEP = 1074  # the sum is held in units of 2**-1074
_SCALE = 1 << _STEP
# The least exact sum that rounds to infinity: halfway between the largest
# double (odd mantissa) and 2**1024, so ties to even round up.
_OVERFLOW = ((1 << 1024) - (1 << 970)) << _STEP


def units(x):
    """A finite double as an exact whole number of 2**-1074."""
    top, bottom = x.as_integer_ratio()  # bottom is a power of two, at most 2**1074
    return top << (_STEP - (bottom.bit_length() - 1))


def nearest(exact):
    """The double nearest an exact sum in units (ties to even): int / int rounds correctly."""
    return exact / _SCALE


def parts(exact):
    """The canonical list of doubles whose exact total is `exact`, largest first."""
    out = []
    while exact:
        d = nearest(exact)
        out.append(d)
        exact -= units(d)
    return out


def load_groups(acc):
    """{group: [count, exact sum in units]} from an accumulator; raises `Err(serialization)`."""
    try:
        decoded = dfjson.loads_object(acc)
    except dfjson.JsonError:
        raise guestkit.serialization(BAD_ACC) from None
    groups = {}
    for group, entry in decoded.items():
        if not isinstance(entry, dict):
            raise guestkit.serialization(BAD_ACC)
        count, total = entry.get("count"), entry.get("sum")
        if not (isinstance(count, float) and isinstance(total, list)):
            raise guestkit.serialization(BAD_ACC)
        if not all(isinstance(d, float) for d in total):
            raise guestkit.serialization(BAD_ACC)
        exact = sum(units(d) for d in total)
        if abs(exact) >= _OVERFLOW:
            raise guestkit.serialization(BAD_ACC)
        groups[group] = [count, exact]
    return groups


def dump_groups(groups):
    return dfjson.dumps({g: {"count": c, "sum": parts(s)} for g, (c, s) in groups.items()})


def add(groups, group, count, exact):
    """Add to a group, or raise `Err(processing)` and leave it as it was on overflow."""
    had_count, had = groups.get(group, (0.0, 0))
    total = had + exact
    if abs(total) >= _OVERFLOW:
        raise guestkit.processing(f'sum of field "{params.get("sum_field")}" overflows')
    groups[group] = [had_count + count, total]


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
    add(groups, group, 1.0, units(number))


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
        fold(groups, dfbatch.OneRecord(record))
        return dump_groups(groups)

    def aggregate_batch(self, acc, records):
        # Decode and encode the accumulator once per batch, not per record.
        try:
            groups = load_groups(acc)
        except Err as err:
            # Every record fails alone, as it would fed one at a time.
            n = len(records.values.ends)
            return types.FoldOutcome(acc, [types.RecordError(i, err.value) for i in range(n)])
        errors = dfbatch.fold_batch(records, lambda record: fold(groups, record))
        n = len(records.values.ends)
        guestkit.debug(f"count_sum: batch of {n} records, {len(groups)} groups")
        return types.FoldOutcome(dump_groups(groups), errors)

    def merge(self, a, b):
        groups = load_groups(a)
        for group, (count, exact) in load_groups(b).items():
            add(groups, group, count, exact)
        return dump_groups(groups)

    def emit(self, acc):
        groups = load_groups(acc)
        out = []
        for group in sorted(groups, key=dfjson.sort_key):
            count, exact = groups[group]
            value = dfjson.dumps({"count": count, "group": group, "sum": nearest(exact)})
            out.append(types.Record(group.encode("utf-8"), value, None, []))
        return dfbatch.batch_of(out)
