"""Codecs for variant-like WIT types: variant, option, result, and resource handles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from dataflare.abi.codec import Codec, Some

if TYPE_CHECKING:
    from dataflare.abi.guest import GuestResource

__all__ = ["handle", "nested_option", "option", "result", "variant"]

T = TypeVar("T")


def _payload(codec: Codec[Any] | None) -> tuple[Any, ...] | None:
    # None: the case has no payload
    return None if codec is None else codec.spec


def variant(cases: Sequence[tuple[str, type, Codec[Any] | None]]) -> Codec[Any]:
    """A WIT variant: `cases` are (wit tag, case dataclass, payload codec or None).

    A case class with a payload has a single `value` field.
    """
    return Codec(("variant", tuple((tag, cls, _payload(codec)) for tag, cls, codec in cases)))


def option(inner: Codec[T]) -> Codec[T | None]:
    """`option<T>` as `T | None` (T itself is never None here)."""
    return Codec(("option", inner.spec))


def nested_option(inner: Codec[T]) -> Codec[Some[T] | None]:
    """`option<option<...>>`: the outer present value is wrapped in `Some`."""
    return Codec(("nested_option", inner.spec))


def result(ok: Codec[Any] | None, err: Codec[Any] | None) -> Codec[Any]:
    """`result<T, E>` as `Ok(T) | Err(E)`; a missing side carries None."""
    return Codec(("result", _payload(ok), _payload(err)))


def handle(key: str, cls: type[GuestResource] | None, own: bool) -> Codec[Any]:
    """`own<R>`/`borrow<R>`; `key` is "iface#resource".

    `cls` is the wrapper class of a guest-exported resource, None for a
    resource only the host implements. A `GuestResource` travels as its
    wasmtime handle. Any other object is a host implementation: it is
    entered in a `HostContext` table (the linker's own in host callbacks,
    the world's `host_cx` in calls to guest exports) and sent as a host
    handle; handles coming back map to it again (`val_resources`).
    """
    return Codec(("resource", key, cls, own))
