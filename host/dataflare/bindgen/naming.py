"""All naming decisions: WIT kebab-case -> Python identifiers.

Types and classes are PascalCase, functions, fields and modules snake_case,
enum and flag members UPPER_SNAKE. A name that is a Python keyword gets a
trailing `_`; so does a class name that would shadow a builtin (`Exception`).
Lower-case names may shadow builtins: they are only ever attributes,
methods, parameters or modules, where shadowing is harmless.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Iterable

__all__ = ["Namespace", "constant", "pascal", "snake"]

_KEYWORDS = frozenset(keyword.kwlist)
_BUILTINS = frozenset(dir(builtins))


def _words(name: str) -> list[str]:
    return [w for w in name.lstrip("%").split("-") if w]


def _escape(ident: str, avoid: frozenset[str] = _KEYWORDS) -> str:
    if ident in avoid:
        return ident + "_"
    return ident


def snake(name: str) -> str:
    """`filter-batch` -> `filter_batch`; keywords (and `l`, easily misread) get a `_`."""
    return _escape("_".join(w.lower() for w in _words(name)), _KEYWORDS | {"l"})


def pascal(name: str) -> str:
    """`plugin-error` -> `PluginError`; acronym words like `HTTP` keep their case."""
    return _escape("".join(w[:1].upper() + w[1:] for w in _words(name)), _KEYWORDS | _BUILTINS)


def constant(name: str) -> str:
    """`dark-blue` -> `DARK_BLUE`, for enum and flag members."""
    return "_".join(w.upper() for w in _words(name))


class Namespace:
    """Hands out unique identifiers within one Python scope.

    The first claimant keeps the plain name; later ones get `_2`, `_3`...
    so the mapping is deterministic for a given WIT.
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)

    def claim(self, ident: str) -> str:
        """Reserve `ident`, or the first free numbered variant of it."""
        candidate, n = ident, 2
        while candidate in self._taken:
            candidate, n = f"{ident.rstrip('_')}_{n}", n + 1
        self._taken.add(candidate)
        return candidate

    def __contains__(self, ident: object) -> bool:
        return ident in self._taken
