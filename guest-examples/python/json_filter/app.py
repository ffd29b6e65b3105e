"""The JSON field filter as a WebAssembly component (world `filter`).

Keeps records whose JSON object has `field` equal to `value`. The exact
rules are those of the native twin, `host/dataflare/builtin/json_filter.py`:
strings compare as raw text, anything else by JSON equality against `value`
decoded as JSON; a missing field drops the record; invalid JSON or a
non-object is a serialization error.
"""

import dfbatch
import dfjson
import guestkit
import wit_world
from wit_world.imports import types

NAME = "json_filter"
PARAMS = [
    types.ParamInfo("field", "top-level key of the JSON object to compare", True, None),
    types.ParamInfo("value", "the value to keep; raw text for strings, JSON otherwise", True, None),
]
_NO_MATCH = object()

# Module state: configure runs once per instance, before any record.
params = guestkit.Params(NAME, PARAMS)
value_as_json = _NO_MATCH


def keep(record):
    """The decision for one record; raises `Err(plugin-error)`."""
    try:
        obj = dfjson.loads_object(record.value)
    except dfjson.JsonError as exc:
        raise guestkit.serialization(exc.args[0]) from None
    field = params.get("field")
    if field not in obj:
        return False
    found = obj[field]
    if isinstance(found, str):
        return found == params.get("value")
    return value_as_json is not _NO_MATCH and dfjson.equal(found, value_as_json)


class WitWorld(wit_world.WitWorld):
    def describe(self):
        return types.PluginInfo(
            NAME,
            "0.1.0",
            types.PluginKind.FILTER,
            "Keep records whose JSON object has `field` equal to `value`.",
            PARAMS,
        )

    def configure(self, config):
        global value_as_json
        params.configure(config)
        try:
            value_as_json = dfjson.loads(params.get("value").encode("utf-8"))
        except (dfjson.JsonError, UnicodeEncodeError):
            value_as_json = _NO_MATCH
        field, value = params.get("field"), params.get("value")
        guestkit.debug(f"json_filter: keeping records with {field} == {value!r}")

    def filter(self, record):
        return dfbatch.filter_one(record, keep)

    def filter_batch(self, records):
        guestkit.debug(f"json_filter: batch of {len(records.values.ends)} records")
        return dfbatch.filter_batch(records, keep)
