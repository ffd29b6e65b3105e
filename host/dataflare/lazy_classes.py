"""Module `__getattr__` that imports a name's module only when the name is first used.

`import dataflare` and the `dataflare --help` start-up stay light this way,
and a connector's dependencies (psycopg for ``postgres``) load only when
something asks for that connector. `dataflare.builtin` and
`dataflare.connectors` declare their plugins in a `PLUGINS` table
(``"<kind>.<name>"`` -> ``"module:Class"``); `class_getattr` reads one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["class_getattr", "lazy_getattr"]


def lazy_getattr(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: name -> the module `where` names, imported once."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__


def class_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """`lazy_getattr` for the classes of a `PLUGINS` table."""
    where = {target.partition(":")[2]: target.partition(":")[0] for target in table.values()}
    return lazy_getattr(package, where)
