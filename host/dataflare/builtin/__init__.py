"""Built-in native plugins: the native twins of the guest examples.

Each module documents its plugin's exact semantics, which every guest
language implements byte for byte (`_json` holds the shared JSON rules).
`PLUGINS` declares them to `dataflare.plugins.registry`, which imports a
plugin's module when it is first looked up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

_WHERE = {target.partition(":")[2]: target.partition(":")[0] for target in PLUGINS.values()}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
