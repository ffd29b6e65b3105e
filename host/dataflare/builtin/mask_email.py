"""`transform/mask_email`: hide the local part of an email address.

Parameter: ``field`` (default ``"email"``), a top-level key.

For each record (JSON rules in `dataflare.builtin._json`):

1. The value must decode to a JSON object, else ``SerializationError``
   ("value is not valid JSON" / "value is not a JSON object").
2. If ``field`` holds a string ``s``, it is replaced by ``mask(s)``:
   with ``i`` the index of the LAST ``@`` in ``s``, the local part is
   ``s[:i]`` and the rest ``s[i:]`` (``@`` included) is kept; without ``@``
   the whole string is the local part. The local part becomes its first
   Unicode code point followed by ``***``, or just ``***`` when empty:
   ``alice@example.com`` -> ``a***@example.com``, ``@x`` -> ``***@x``,
   ``bob`` -> ``b***``, ``""`` -> ``***``.
3. If ``field`` is present but not a string: ``ProcessingError``
   (``field "<field>" is not a string``).
4. If ``field`` is absent the object is left as it is.
5. The new value is the canonical (RFC 8785) encoding of the object, so a
   record always comes out canonical. Key, timestamp and metadata are kept.
"""

from __future__ import annotations

from dataclasses import replace

from dataflare.builtin._json import canonical, parse_object
from dataflare.errors import ProcessingError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import TransformBase
from dataflare.plugins.registry import register

__all__ = ["MaskEmail", "mask"]


def mask(address: str) -> str:
    """`address` with its local part reduced to the first code point and ``***``."""
    at = address.rfind("@")
    local, rest = (address, "") if at < 0 else (address[:at], address[at:])
    return local[:1] + "***" + rest


@register("transform", "mask_email")
class MaskEmail(TransformBase):
    """Mask the local part of an email address held in a JSON field."""

    params = (ParamInfo("field", "top-level key holding the email address", default="email"),)

    def transform(self, record: Record) -> Record:
        """The record with `field` masked and the value canonically re-encoded."""
        obj = parse_object(record.value)
        field = self.param("field")
        if field in obj:
            found = obj[field]
            if not isinstance(found, str):
                raise ProcessingError(f'field "{field}" is not a string')
            obj[field] = mask(found)
        return replace(record, value=canonical(obj))
