"""Runtime support imported by generated bindings (the generator owns this module).

Generated code depends only on this module, `wasmtime` and `dataflare.errors`.
`call_export` is the one place where the host calls into a guest and the one
place wasmtime errors are translated (into `GuestTrap`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Err", "Ok", "Result", "WorldSpec"]

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """What a world requires of a component: its exports and its own imports.

    `exports` are the world's top-level export names (kebab-case, as in the
    component); `imports` are the versioned interface names the world imports
    from its own package, e.g. ``dataflare:plugin/log@0.1.0``.
    """

    package: str
    name: str
    version: str
    exports: tuple[str, ...]
    imports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """The success case of a WIT `result`."""

    value: T


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """The error case of a WIT `result`."""

    value: E


Result = Ok[T] | Err[E]
