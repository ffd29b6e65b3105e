"""Guest side: looking up a component's exports, and guest resource wrappers.

Every export call goes through `typedfunc.TypedFunc`: world and interface
functions are bound when the world class is made, resource functions on
first use (`GuestContext.typed`). Resource destructors translate wasmtime
errors with `traps`, as `TypedFunc` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Self, TypeVar, overload

import wasmtime
from wasmtime.component import ExportIndex, Func, Instance, ResourceAny

from dataflare.abi.codec import Codec
from dataflare.abi.traps import guest_errors
from dataflare.abi.typedfunc import TypedFunc
from dataflare.errors import WorldMismatchError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from dataflare.abi.host import HostContext

__all__ = ["GuestContext", "GuestResource", "guest_errors"]

R = TypeVar("R")


class GuestContext:
    """One instantiated component: its store and its exports, looked up once.

    `host` is the linker's `HostContext` when guest exports take or return
    host-implemented resources: those objects live in its tables. `native`
    picks the codec path of every export bound on it (see
    `typedfunc.TypedFunc`): None is C when the extension is built.
    """

    __slots__ = ("_funcs", "_indexes", "_typed", "host", "instance", "native", "store")

    def __init__(
        self,
        store: wasmtime.Store,
        instance: Instance,
        host: HostContext | None = None,
        *,
        native: bool | None = None,
    ) -> None:
        self.store = store
        self.instance = instance
        self.host = host
        self.native = native
        self._indexes: dict[str, ExportIndex] = {}
        self._funcs: dict[tuple[str | None, str], Func] = {}
        self._typed: dict[tuple[str | None, str], TypedFunc[Any]] = {}

    def lending(self) -> AbstractContextManager[None]:
        """Scope of a call that borrows host objects to the guest (see `HostContext.lend`)."""
        return nullcontext() if self.host is None else self.host.lending()

    @overload
    def typed(
        self, interface: str | None, name: str, params: Sequence[Codec[Any]], result: None
    ) -> TypedFunc[None]: ...

    @overload
    def typed(
        self, interface: str | None, name: str, params: Sequence[Codec[Any]], result: Codec[R]
    ) -> TypedFunc[R]: ...

    def typed(
        self,
        interface: str | None,
        name: str,
        params: Sequence[Codec[Any]],
        result: Codec[Any] | None,
    ) -> TypedFunc[Any]:
        """Export `name` bound to its codecs on first use (resource functions), then cached."""
        found = self._typed.get((interface, name))
        if found is None:
            func = self.func(interface, name)
            found = TypedFunc(self, func, params, result, native=self.native)
            self._typed[interface, name] = found
        return found

    def func(self, interface: str | None, name: str) -> Func:
        """The export `name`, top-level or inside exported `interface` (cached)."""
        found = self._funcs.get((interface, name))
        if found is None:
            found = self._funcs[interface, name] = self._lookup(interface, name)
        return found

    def _lookup(self, interface: str | None, name: str) -> Func:
        parent = None
        if interface is not None:
            parent = self._indexes.get(interface)
            if parent is None:
                parent = self.instance.get_export_index(self.store, interface)
                if parent is None:
                    raise WorldMismatchError(f"the component does not export {interface!r}")
                self._indexes[interface] = parent
        index = self.instance.get_export_index(self.store, name, parent)
        func = None if index is None else self.instance.get_func(self.store, index)
        if func is None:
            where = f" in {interface!r}" if interface else ""
            raise WorldMismatchError(f"the component has no exported function {name!r}{where}")
        return func


class GuestResource:
    """Base of classes wrapping a resource the guest exports (a `ResourceAny`).

    Passing the object as `own<...>` moves it into the guest; afterwards it is
    unusable. `drop()` (or leaving a `with` block) runs the guest destructor.
    """

    __slots__ = ("_cx", "_handle")

    _cx: GuestContext
    _handle: ResourceAny | None

    @classmethod
    def _from_handle(cls, cx: GuestContext, handle: ResourceAny) -> Self:
        obj = cls.__new__(cls)
        obj._cx = cx
        obj._handle = handle
        return obj

    def _borrow(self) -> ResourceAny:
        if self._handle is None:
            raise ValueError(f"{type(self).__name__} was dropped or moved into the guest")
        return self._handle

    def _own(self) -> ResourceAny:
        handle = self._borrow()
        self._handle = None
        return handle

    def drop(self) -> None:
        """Release the guest resource now; later calls raise `ValueError`."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            with guest_errors():
                handle.drop(self._cx.store)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop()
