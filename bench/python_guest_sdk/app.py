"""Times the Python guest SDK (dfbatch) inside a guest, next to the work of the example plugins.

Built twice, for the `filter` and the `transform` world. `configure` picks a
mode; each batch call times itself with the guest's clock and logs
"<mode> <microseconds>", so the host's call and conversion costs stay out.
Modes: `sdk` runs dfbatch with a plugin function that does nothing,
`plain` does the example's JSON work in a hand-written loop over the
columns (no SDK), `example` runs the example's work through dfbatch.
"""

import time

import dfbatch
import dfjson
import guestkit
import wit_world
from wit_world.imports import types

MODE = ["example"]


def keep(record):
    return matches(record.value)


def matches(value):
    """json_filter's work: decode, compare a field."""
    try:
        obj = dfjson.loads_object(value)
    except dfjson.JsonError as exc:
        raise guestkit.serialization(exc.args[0]) from None
    return obj.get("a") == 1.0


def mask(value):
    """mask_email's work: decode, mask a field, encode canonically."""
    try:
        obj = dfjson.loads_object(value)
    except dfjson.JsonError as exc:
        raise guestkit.serialization(exc.args[0]) from None
    address = obj.get("email", "")
    at = address.rfind("@")
    obj["email"] = address[:1] + "***" + (address[at:] if at >= 0 else "")
    return dfjson.dumps(obj)


def values(batch):
    data, start = batch.values.text.encode("utf-8"), 0
    for end in batch.values.ends:
        yield data[start:end]
        start = end


def timed(batch_call):
    def call(self, records):
        started = time.perf_counter()
        out = batch_call(records)
        guestkit.debug(f"{MODE[0]} {(time.perf_counter() - started) * 1e6:.1f}")
        return out

    return call


def filter_batch(records):
    mode = MODE[0]
    if mode == "plain":
        flags = bytearray(b"0") * len(records.values.ends)
        for i, value in enumerate(values(records)):
            if matches(value):
                flags[i] = 49
        return types.FilterOutcome(dfbatch.bitmap(flags), [])
    return dfbatch.filter_batch(records, keep if mode == "example" else lambda r: True)


def transform_batch(records):
    mode = MODE[0]
    if mode == "plain":
        out = [mask(value) for value in values(records)]
        column = dfbatch.bytes_column(out, may_be_absent=False)
        batch = types.Batch(column, records.keys, records.timestamps, records.metadata)
        return types.TransformOutcome(batch, [])
    if mode == "example":
        return dfbatch.transform_batch(records, lambda r: r.with_value(mask(r.value)))
    return dfbatch.transform_batch(records, lambda r: r.with_value(r.value))


class WitWorld(wit_world.WitWorld):
    def describe(self):
        return types.PluginInfo("sdk_probe", "0.1.0", types.PluginKind.FILTER, "", [])

    def configure(self, config):
        MODE[0] = dict(config)["mode"]

    def filter(self, record):
        return True

    def transform(self, record):
        return record

    filter_batch = timed(filter_batch)
    transform_batch = timed(transform_batch)
