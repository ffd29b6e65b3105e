"""Host side: host resources handed to guests, and typed host-function wrappers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from wasmtime.component import LinkerInstance, ResourceAny, ResourceHost, ResourceType

from dataflare.abi.codec import Codec
from dataflare.abi.codec_variants import resource
from dataflare.abi.guest import GuestContext, GuestResource

__all__ = ["HostContext", "define_unavailable", "handle", "host_func"]

_host_type_ids = itertools.count(1)


class HostContext:
    """Host-side state for one linker: tables of host resources handed to guests.

    `store` is the store of the callback being served (set per call), which
    converting a guest's handle back to our table entry needs.
    """

    __slots__ = ("_tables", "store")

    def __init__(self) -> None:
        self.store: Any = None
        self._tables: dict[str, tuple[int, dict[int, Any], itertools.count[int]]] = {}

    def define_resource(self, inst: LinkerInstance, key: str) -> None:
        """Define host resource `key` ("iface#name") in linker instance `inst`."""
        type_id = next(_host_type_ids)
        table: dict[int, Any] = {}
        self._tables[key] = (type_id, table, itertools.count(1))
        name = key.rpartition("#")[2]
        inst.add_resource(name, ResourceType.host(type_id), lambda store, rep: table.pop(rep, None))

    def add(self, key: str, obj: Any) -> ResourceHost:
        """Enter host object `obj` in the table of resource `key`; an owned handle."""
        try:
            type_id, table, reps = self._tables[key]
        except KeyError:
            raise TypeError(f"host resource {key!r} is not linked in this linker") from None
        rep = next(reps)
        table[rep] = obj
        return ResourceHost.own(rep, type_id)

    def get(self, key: str, raw: ResourceAny, own: bool) -> Any:
        """The host object a guest handle refers to; `own` removes it from the table."""
        _, table, _ = self._tables[key]
        rep = raw.to_host(self.store).rep
        return table.pop(rep) if own else table[rep]


def handle(key: str, cls: type[GuestResource] | None, own: bool) -> Codec[Any]:
    """Codec for `own<R>`/`borrow<R>`; `key` is "iface#resource".

    A `GuestResource` travels as its wasmtime handle. Any other object is a
    host implementation: it is entered in the `HostContext` table and sent
    as a host handle; handles arriving in host callbacks map back to it.
    """

    def lower(v: Any, cx: Any) -> Any:
        if isinstance(v, GuestResource):
            return v._own() if own else v._borrow()
        if isinstance(cx, HostContext):
            return cx.add(key, v)
        raise TypeError(f"expected a {key} resource object, got {type(v).__name__}")

    def lift(raw: Any, cx: Any) -> Any:
        if isinstance(cx, HostContext) and key in cx._tables:
            return cx.get(key, raw, own)
        if cls is None or not isinstance(cx, GuestContext):
            raise TypeError(f"cannot lift a {key} handle here")
        return cls._from_handle(cx, raw)

    return resource(lower, lift)


def define_unavailable(inst: LinkerInstance, names: Sequence[str]) -> None:
    """Define functions a world imports only for their types; calling one traps."""
    for name in names:

        def unavailable(store: Any, *args: Any, _name: str = name) -> Any:
            raise NotImplementedError(f"the host does not implement {_name!r}")

        inst.add_func(name, unavailable)


def host_func(
    cx: HostContext,
    impl: Callable[..., Any],
    params: Sequence[Codec[Any]],
    result: Codec[Any] | None,
) -> Callable[..., Any]:
    """Wrap a typed host implementation as a wasmtime-py component function."""
    lifts = tuple(c.lift for c in params)
    lower = None if result is None else result.lower

    def call(store: Any, *raw: Any) -> Any:
        cx.store = store
        out = impl(*[lift(v, cx) for lift, v in zip(lifts, raw, strict=True)])
        return None if lower is None else lower(out, cx)

    return call
