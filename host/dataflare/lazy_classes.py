"""Module `__getattr__` that imports a plugin class only when it is first used.

`dataflare.builtin` and `dataflare.connectors` declare their plugins in a
`PLUGINS` table (``"<kind>.<name>"`` -> ``"module:Class"``) and export the
classes by name without importing them: a connector's dependencies (psycopg
for ``postgres``) load only when something asks for that connector.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["class_getattr"]


def class_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports `table`'s classes on first access."""
    where = {target.partition(":")[2]: target.partition(":")[0] for target in table.values()}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__
