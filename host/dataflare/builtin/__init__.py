"""Built-in native plugins: the native twins of the guest examples.

Each module documents its plugin's exact semantics, which every guest
language implements byte for byte (`_json` holds the shared JSON rules).
`PLUGINS` declares them to `dataflare.plugins.registry`, which imports a
plugin's module when it is first looked up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataflare.lazy_classes import class_getattr

if TYPE_CHECKING:
    from dataflare.builtin.count_sum import CountSum
    from dataflare.builtin.json_filter import JsonFilter
    from dataflare.builtin.mask_email import MaskEmail

__all__ = ["PLUGINS", "CountSum", "JsonFilter", "MaskEmail"]

PLUGINS: dict[str, str] = {
    "filter.json_filter": "dataflare.builtin.json_filter:JsonFilter",
    "transform.mask_email": "dataflare.builtin.mask_email:MaskEmail",
    "aggregate.count_sum": "dataflare.builtin.count_sum:CountSum",
}
"""Each plugin as ``"<kind>.<name>"`` -> ``"module:Class"``, like an entry point."""

__getattr__ = class_getattr(__name__, PLUGINS)
