"""The email-masking transform as a WebAssembly component (world `transform`).

Replaces the local part of the email in `field` (default "email") with its
first character and "***" ("alice@example.com" -> "a***@example.com") and
re-encodes the object canonically. The exact rules are those of the native
twin, `host/dataflare/builtin/mask_email.py`.
"""

import dfbatch
import dfjson
import guestkit
import wit_world
from wit_world.imports import types

NAME = "mask_email"
PARAMS = [types.ParamInfo("field", "top-level key holding the email address", False, "email")]

params = guestkit.Params(NAME, PARAMS)


def mask(address):
    """Keep the first code point of the local part, then "***", then "@domain"."""
    at = address.rfind("@")
    if at < 0:
        local, rest = address, ""
    else:
        local, rest = address[:at], address[at:]
    return local[:1] + "***" + rest


def masked(record):
    """The new record (a view or a WIT record in, the same with a new value out); raises `Err`."""
    try:
        obj = dfjson.loads_object(record.value)
    except dfjson.JsonError as exc:
        raise guestkit.serialization(exc.args[0]) from None
    field = params.get("field")
    if field in obj:
        if not isinstance(obj[field], str):
            raise guestkit.processing(f'field "{field}" is not a string')
        obj[field] = mask(obj[field])
    return record.with_value(dfjson.dumps(obj))


class WitWorld(wit_world.WitWorld):
    def describe(self):
        return types.PluginInfo(
            NAME,
            "0.1.0",
            types.PluginKind.TRANSFORM,
            "Mask the local part of an email address held in a JSON field.",
            PARAMS,
        )

    def configure(self, config):
        params.configure(config)
        guestkit.debug(f"mask_email: masking field {params.get('field')!r}")

    def transform(self, record):
        return dfbatch.transform_one(record, masked)

    def transform_batch(self, records):
        guestkit.debug(f"mask_email: batch of {len(records.values.ends)} records")
        return dfbatch.transform_batch(records, masked)
