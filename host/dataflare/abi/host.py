"""Host side: host resources handed to guests, and typed host-function wrappers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from wasmtime.component import LinkerInstance, ResourceAny, ResourceHost, ResourceType

from dataflare.abi.codec import Codec
from dataflare.abi.codec_variants import resource
from dataflare.abi.guest import GuestContext, GuestResource

__all__ = ["HostContext", "define_unavailable", "handle", "host_context", "host_func"]

_host_type_ids = itertools.count(1)


class HostContext:
    """Host-side state for one linker: tables of host resources handed to guests.

    `store` is the store of the callback being served (set per call), which
    converting a guest's handle back to our table entry needs. The world
    class takes the same context (`host_cx`) when its exports take or return
    host resources, so objects passed to the guest land in these tables.
    """

    __slots__ = ("_lending", "_lent", "_tables", "store")

    def __init__(self) -> None:
        self.store: Any = None
        self._tables: dict[str, tuple[int, dict[int, Any], itertools.count[int]]] = {}
        # entries made for `borrow<...>` arguments, released when their call returns
        self._lent: list[tuple[dict[int, Any], int]] = []
        self._lending = 0

    def define_resource(self, inst: LinkerInstance, key: str) -> None:
        """Define host resource `key` ("iface#name") in linker instance `inst`."""
        type_id = next(_host_type_ids)
        table: dict[int, Any] = {}
        self._tables[key] = (type_id, table, itertools.count(1))
        name = key.rpartition("#")[2]
        inst.add_resource(name, ResourceType.host(type_id), lambda store, rep: table.pop(rep, None))

    def _table(self, key: str) -> tuple[int, dict[int, Any], itertools.count[int]]:
        try:
            return self._tables[key]
        except KeyError:
            raise TypeError(f"host resource {key!r} is not linked in this linker") from None

    def add(self, key: str, obj: Any) -> ResourceHost:
        """Enter host object `obj` in the table of resource `key`; an owned handle.

        The guest owns the entry from now on: dropping its handle removes it.
        """
        type_id, table, reps = self._table(key)
        rep = next(reps)
        table[rep] = obj
        return ResourceHost.own(rep, type_id)

    def lend(self, key: str, obj: Any) -> ResourceHost:
        """Enter `obj` for one guest call only; a borrowed handle.

        A borrow ends when the call returns and the guest never drops it
        through our destructor, so `lending()` removes the entry instead.
        """
        if not self._lending:
            raise RuntimeError(f"a borrowed {key} can only be lent inside `lending()`")
        type_id, table, reps = self._table(key)
        rep = next(reps)
        table[rep] = obj
        self._lent.append((table, rep))
        return ResourceHost.borrow(rep, type_id)

    @contextmanager
    def lending(self) -> Iterator[None]:
        """Scope of one guest call: entries `lend` makes inside it are removed at its end."""
        mark = len(self._lent)
        self._lending += 1
        try:
            yield
        finally:
            self._lending -= 1
            for table, rep in self._lent[mark:]:
                del table[rep]
            del self._lent[mark:]

    def take(self, key: str, rep: int, type_id: int, own: bool) -> Any:
        """The host object of table entry `rep`; `own` removes it from the table.

        `type_id` is the handle's resource type, checked against the table's.
        """
        want, table, _ = self._table(key)
        if type_id != want:
            raise TypeError(
                f"guest passed a handle of another resource type where {key} was expected"
            )
        return table.pop(rep) if own else table[rep]

    def get(self, key: str, raw: ResourceAny, own: bool, store: Any = None) -> Any:
        """The host object a guest handle refers to; `own` removes it from the table.

        `store` is the store the handle belongs to; by default the one of the
        callback being served.
        """
        _, table, _ = self._table(key)
        rep = raw.to_host(self.store if store is None else store).rep
        return table.pop(rep) if own else table[rep]


def handle(key: str, cls: type[GuestResource] | None, own: bool) -> Codec[Any]:
    """Codec for `own<R>`/`borrow<R>`; `key` is "iface#resource".

    `cls` is the wrapper class of a guest-exported resource, None for a
    resource only the host implements. A `GuestResource` travels as its
    wasmtime handle. Any other object is a host implementation: it is
    entered in a `HostContext` table (the linker's own in host callbacks,
    the world's `host_cx` in calls to guest exports) and sent as a host
    handle; handles coming back map to it again.
    """

    def lower(v: Any, cx: Any) -> Any:
        if isinstance(v, GuestResource):
            return v._own() if own else v._borrow()
        if isinstance(cx, HostContext):
            return cx.add(key, v)
        if cls is None and isinstance(cx, GuestContext):
            host = host_context(cx, key)
            return host.add(key, v) if own else host.lend(key, v)
        raise TypeError(f"expected a {key} resource object, got {type(v).__name__}")

    def lift(raw: Any, cx: Any) -> Any:
        if isinstance(cx, HostContext) and key in cx._tables:
            return cx.get(key, raw, own)
        if isinstance(cx, GuestContext):
            if cls is not None:
                return cls._from_handle(cx, raw)
            return host_context(cx, key).get(key, raw, own, cx.store)
        raise TypeError(f"cannot lift a {key} handle here")

    return resource(lower, lift, ("resource", key, cls, own))


def host_context(cx: GuestContext, key: str) -> HostContext:
    """The `HostContext` of world context `cx`, where host objects of resource `key` live."""
    host = cx.host
    if not isinstance(host, HostContext):
        raise TypeError(
            f"a host {key} object needs the linker's HostContext: pass the one"
            " add_imports_to_linker returned to the world class as `host_cx`"
        )
    return host


def define_unavailable(
    inst: LinkerInstance, interface: str, names: Sequence[str], hint: str
) -> None:
    """Define the functions of an import the host does not serve; calling one traps.

    componentize-py imports every function of an interface its world both
    imports and exports, so the linker needs them even when the host passes
    no implementation. A guest that does call one gets `NotImplementedError`
    naming the function and `hint`, the way to serve it.
    """
    for name in names:

        def unavailable(store: Any, *args: Any, _name: str = name) -> Any:
            raise NotImplementedError(f"the host does not implement {interface}#{_name}: {hint}")

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
