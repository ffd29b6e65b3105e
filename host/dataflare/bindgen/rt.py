"""Runtime support imported by generated bindings (the generator owns this module).

Generated code depends only on this module, `wasmtime` and `dataflare.errors`.
`call_export` is the one place where the host calls into a guest and the one
place wasmtime errors are translated (into `GuestTrap`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

import wasmtime
from wasmtime.component import (
    ExportIndex,
    Func,
    Instance,
    LinkerInstance,
    ResourceAny,
    ResourceHost,
    ResourceType,
)

from dataflare.bindgen.codec import (
    BOOL,
    BYTES,
    CHAR,
    F32,
    F64,
    S8,
    S16,
    S32,
    S64,
    STRING,
    U8,
    U16,
    U32,
    U64,
    UNIT,
    Codec,
    Err,
    Ok,
    Some,
    enum_of,
    flags_of,
    list_of,
    record,
    tuple_of,
)
from dataflare.bindgen.variants import nested_option, option, resource, result, variant
from dataflare.errors import GuestTrap, WorldMismatchError

__all__ = [
    "BOOL",
    "BYTES",
    "CHAR",
    "F32",
    "F64",
    "S8",
    "S16",
    "S32",
    "S64",
    "STRING",
    "U8",
    "U16",
    "U32",
    "U64",
    "UNIT",
    "Codec",
    "Err",
    "GuestContext",
    "GuestResource",
    "HostContext",
    "Ok",
    "Result",
    "Some",
    "WorldSpec",
    "call_export",
    "define_unavailable",
    "enum_of",
    "flags_of",
    "handle",
    "host_func",
    "list_of",
    "nested_option",
    "option",
    "record",
    "resource",
    "result",
    "tuple_of",
    "variant",
]

Result = Ok[Any] | Err[Any]


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


@contextmanager
def _guest_errors() -> Iterator[None]:
    try:
        yield
    except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
        raise GuestTrap(f"guest trapped: {exc}") from exc


def call_export(store: wasmtime.Store, func: Func, args: Sequence[Any]) -> Any:
    """Call a guest export with already-lowered `args`; traps become `GuestTrap`."""
    with _guest_errors():
        return func(store, *args)


class GuestContext:
    """One instantiated component: its store and its exports, looked up once."""

    __slots__ = ("_funcs", "_indexes", "instance", "store")

    def __init__(self, store: wasmtime.Store, instance: Instance) -> None:
        self.store = store
        self.instance = instance
        self._indexes: dict[str, ExportIndex] = {}
        self._funcs: dict[tuple[str | None, str], Func] = {}

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
            with _guest_errors():
                handle.drop(self._cx.store)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop()


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
