"""Host side: host resources handed to guests, and host functions guests call.

A host function is linked with our own trampoline (`_wasmtime_private.link_func`),
not wasmtime-py's `add_func`, so its values move on the same codec paths as
guest exports: the argument vals are lifted in place (they are wasmtime's),
the result is lowered into an arena and deep-copied into the result val with
wasmtime's allocator, because wasmtime frees result vals after the callback.
An exception becomes a trap; the trampoline holds it for the guest call's
caller to re-raise, as wasmtime-py does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from wasmtime.component import LinkerInstance, ResourceHost, ResourceType

from dataflare.abi import c_ext
from dataflare.abi._wasmtime_private import VAL, HostCallback, link_func, val_clone
from dataflare.abi.codec import Codec
from dataflare.abi.guest import GuestContext
from dataflare.abi.val_memory import _Arena, _Lift, _Lower
from dataflare.abi.val_nodes import compile_spec
from dataflare.abi.val_resources import CallScope, has_resources

__all__ = ["HostContext", "define_unavailable", "host_context"]

_host_type_ids = itertools.count(1)


class HostContext:
    """Host-side state for one linker: tables of host resources handed to guests.

    The world class takes the same context (`host_cx`) when its exports take
    or return host resources, so objects passed to the guest land in these
    tables. `native` picks the codec path of the host functions linked
    through it (`add_func`), as `GuestContext.native` does for exports: None
    is C when the extension is built.
    """

    __slots__ = ("_lending", "_lent", "_tables", "native")

    def __init__(self, *, native: bool | None = None) -> None:
        self.native = c_ext.choose(native)
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

    def add_func(
        self,
        inst: LinkerInstance,
        name: str,
        impl: Callable[..., Any],
        params: Sequence[Codec[Any]],
        result: Codec[Any] | None,
    ) -> None:
        """Define host function `name` in `inst`: guest calls reach `impl` with typed values."""
        link_func(inst, name, _HostFunc(self, impl, params, result))


class _HostFunc:
    """One host function's trampoline callback: lift the arguments, call, lower the result."""

    __slots__ = ("_arena", "_busy", "_cx", "_impl", "_lifts", "_lower", "_n", "_resources")

    def __init__(
        self,
        cx: HostContext,
        impl: Callable[..., Any],
        params: Sequence[Codec[Any]],
        result: Codec[Any] | None,
    ) -> None:
        self._cx = cx
        self._impl = impl
        specs = [c.spec for c in params]
        self._lifts: tuple[tuple[int, _Lift], ...]
        self._lower: _Lower | None
        if cx.native:
            nodes = [c_ext.node(s) for s in specs]
            self._lifts = tuple((i * VAL, nd.lift) for i, nd in enumerate(nodes))
            self._lower = None if result is None else c_ext.node(result.spec).lower
        else:
            self._lifts = tuple((i * VAL, compile_spec(s)[1]) for i, s in enumerate(specs))
            self._lower = None if result is None else compile_spec(result.spec)[0]
        self._n = len(specs)
        self._resources = has_resources((*specs, None if result is None else result.spec))
        self._arena: _Arena | None = None
        self._busy = False

    def __call__(self, ctx: int, args: int, nargs: int, res: int, nres: int) -> None:
        if nargs != self._n or nres != (self._lower is not None):
            raise TypeError(f"host function called with {nargs} arguments and {nres} results")
        if self._resources:
            with CallScope(self._cx, ctx):
                self._serve(args, res)
        else:
            self._serve(args, res)

    def _serve(self, args: int, res: int) -> None:
        out = self._impl(*[lift(args + off) for off, lift in self._lifts])
        lower = self._lower
        if lower is None:
            return
        # re-entered through a nested guest call: a separate arena
        ar = _Arena(1 << 12) if self._busy or self._arena is None else self._arena
        if self._arena is None:
            self._arena = ar
        busy, self._busy = self._busy, True
        try:
            tmp = ar.alloc(VAL)
            lower(out, tmp, ar)
            val_clone(tmp, res)  # wasmtime frees result vals: a copy it allocated
        finally:
            ar.reset()
            self._busy = busy


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
        message = f"the host does not implement {interface}#{name}: {hint}"
        link_func(inst, name, _unavailable(message))


def _unavailable(message: str) -> HostCallback:
    def call(ctx: int, args: int, nargs: int, res: int, nres: int) -> None:
        raise NotImplementedError(message)

    return call
