"""Built-in native plugins: the native twins of the guest examples.

Each module documents its plugin's exact semantics, which every guest
language implements byte for byte (`_json` holds the shared JSON rules).
Importing this package registers every built-in with
`dataflare.plugins.registry`; the registry does so on its first lookup.
"""

from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail

__all__ = ["CountSum", "JsonFilter", "MaskEmail"]
