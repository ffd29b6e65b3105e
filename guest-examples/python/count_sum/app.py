"""The count-and-sum aggregate as a WebAssembly component (world `aggregate`).

Counts records and sums `sum_field` per value of `group_by` by the rules of
the native twin (`host/dataflare/builtin/count_sum.py`, read its docstring),
and gives the same accumulators and records byte for byte, as the Rust guest
does: each group's sum is exact, held as Shewchuk non-overlapping partials
(the `msum` recipe behind `math.fsum`), so folding in any split and merging
emits what one fold emits.

The accumulator is the canonical (RFC 8785) JSON of
{"<group>": {"count": n, "sum": s}}, `s` the exact sum correctly rounded;
when the exact sum is not one double the entry also holds
"partials": [...] (non-zero, smallest magnitude first). An entry without
partials stands for exactly `s`. A record fails with
`sum of field "<sum_field>" overflows` when a partial, or the rounded exact
sum, would be infinite (the accumulator is left unchanged); `merge` fails
the same way.
"""

import math

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


# add_exact and round_exact are step for step those of the host
# (dataflare.builtin._exact_sum) and of the Rust guest: the partials depend
# on the order of the float operations, and the accumulators must be the
# same bytes. math.fsum rounds the same but does not hand out its partials.
def add_exact(partials, x):
    """Add `x` to the exact sum held in `partials` (in place); False if a partial overflowed."""
    kept = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            partials[kept] = lo
            kept += 1
        x = hi
    del partials[kept:]
    partials.append(x)
    return all(math.isfinite(p) for p in partials)


def round_exact(partials):
    """The exact sum of `partials` correctly rounded (ties to even), as `math.fsum` ends."""
    n = len(partials)
    if n == 0:
        return 0.0
    n -= 1
    hi = partials[n]
    lo = 0.0
    while n > 0:
        x = hi
        n -= 1
        y = partials[n]
        hi = x + y
        yr = hi - x
        lo = y - yr
        if lo != 0.0:
            break
    # Half-way cases: the dropped partials below decide which way to round.
    if n > 0 and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
        y = lo * 2.0
        x = hi + y
        yr = x - hi
        if y == yr:
            hi = x
    return hi


def load_groups(acc):
    """{group: [count, partials]} from an accumulator; raises `Err(serialization)`."""
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
        # No partials: the entry stands for exactly `sum`.
        partials = entry.get("partials", [total])
        if not (isinstance(partials, list) and all(isinstance(p, float) for p in partials)):
            raise guestkit.serialization(BAD_ACC)
        if round_exact(partials) != total:
            raise guestkit.serialization(BAD_ACC)
        groups[group] = [count, partials]
    return groups


def dump_groups(groups):
    entries = {}
    for group, (count, partials) in groups.items():
        entry = {"count": count, "sum": round_exact(partials)}
        nonzero = [p for p in partials if p != 0.0]
        if len(nonzero) > 1:
            entry["partials"] = nonzero
        entries[group] = entry
    return dfjson.dumps(entries)


def overflow():
    return guestkit.processing(f'sum of field "{params.get("sum_field")}" overflows')


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
    count, had = groups.get(group, (0.0, []))
    partials = list(had)
    if not add_exact(partials, number) or not math.isfinite(round_exact(partials)):
        raise overflow()
    groups[group] = [count + 1.0, partials]


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
        if len(errors) == n:
            return types.FoldOutcome(acc, errors)  # nothing folded: the caller's bytes, as native
        return types.FoldOutcome(dump_groups(groups), errors)

    def merge(self, a, b):
        groups = load_groups(a)
        for group, (count, partials) in load_groups(b).items():
            into = groups.setdefault(group, [0.0, []])
            into[0] += count
            for p in partials:
                if not add_exact(into[1], p):
                    raise overflow()
            if not math.isfinite(round_exact(into[1])):
                raise overflow()
        return dump_groups(groups)

    def emit(self, acc):
        groups = load_groups(acc)
        out = []
        for group in sorted(groups, key=dfjson.sort_key):
            count, partials = groups[group]
            value = dfjson.dumps({"count": count, "group": group, "sum": round_exact(partials)})
            out.append(types.Record(group.encode("utf-8"), value, None, []))
        return dfbatch.batch_of(out)
