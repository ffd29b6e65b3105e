"""Value-array nodes for resource handles, `own<R>` and `borrow<R>`, guest and host.

A handle val (kind `K_RESOURCE`) holds a `wasmtime_component_resource_any_t *`.
What a handle means depends on the call it travels in: a guest resource is
wrapped in its class, bound to the call's `GuestContext`; a host resource is
an entry of a `HostContext` table, found through the store context. Nodes are
compiled once per spec and shared by every instance, so the call in progress
publishes its context in `current` while it lowers and lifts: `TypedFunc`
for guest exports, the host-function trampoline for callbacks. It is
per thread, because two threads may each run a store of their own.

Ownership: a lowered handle is a box of our own (a clone, or a fresh box for
a host object), recorded in the arena and freed when the arena is reset;
wasmtime only borrows argument vals. A lifted handle is read in place and
cloned, since the val it sits in is freed by its owner (wasmtime).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from dataflare.abi._wasmtime_private import (
    K_RESOURCE,
    host_rep,
    host_to_any,
    resource_any,
    resource_any_address,
    resource_any_clone,
    resource_host_address,
)
from dataflare.abi.val_memory import _OPT, MEM, _Arena, _check_kind, _Lift, _Lower

if TYPE_CHECKING:
    from dataflare.abi.guest import GuestResource

__all__ = ["CallScope", "current", "has_resources"]


class _Current(threading.local):
    """The context of the call being lowered or lifted on this thread."""

    def __init__(self) -> None:
        self.cx: Any = None
        self.ctx = 0


current = _Current()


class CallScope:
    """Publishes `cx` and store context `ctx` in `current` for one call (re-entrant)."""

    __slots__ = ("_ctx", "_cx", "_saved")

    def __init__(self, cx: Any, ctx: int) -> None:
        self._cx = cx
        self._ctx = ctx
        self._saved: tuple[Any, int] = (None, 0)

    def __enter__(self) -> None:
        self._saved = (current.cx, current.ctx)
        current.cx, current.ctx = self._cx, self._ctx

    def __exit__(self, *exc: object) -> None:
        current.cx, current.ctx = self._saved


def has_resources(spec: Any) -> bool:
    """Whether a codec spec contains a resource handle anywhere."""
    if isinstance(spec, tuple):
        if spec and spec[0] == "resource":
            return True
        return any(has_resources(s) for s in spec)
    return False


def _resource(key: str, cls: type[GuestResource] | None, own: bool) -> tuple[_Lower, _Lift]:
    from dataflare.abi.guest import GuestContext, GuestResource
    from dataflare.abi.host import HostContext, host_context

    pack, unpack = _OPT.pack_into, _OPT.unpack_from

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        cx = current.cx
        if isinstance(v, GuestResource):
            if cls is None or not isinstance(v, cls):
                raise TypeError(f"expected a {key} resource object, got {type(v).__name__}")
            handle = v._own() if own else v._borrow()
            box = resource_any_clone(resource_any_address(handle))
        else:
            if cls is not None:
                raise TypeError(f"expected a {key} resource object, got {type(v).__name__}")
            if isinstance(cx, HostContext):
                made = cx.add(key, v)
            elif isinstance(cx, GuestContext):
                host = host_context(cx, key)
                made = host.add(key, v) if own else host.lend(key, v)
            else:
                raise TypeError(f"expected a {key} resource object, got {type(v).__name__}")
            # `made` owns the box host_to_any reads: it must outlive the call
            box = host_to_any(current.ctx, resource_host_address(made))
        ar.handles.append(box)
        pack(MEM, addr, K_RESOURCE, box)

    def lift(addr: int) -> Any:
        k, box = unpack(MEM, addr)
        if k != K_RESOURCE:
            _check_kind(addr, K_RESOURCE, key)
        cx = current.cx
        if cls is not None:
            if not isinstance(cx, GuestContext):
                raise TypeError(f"cannot lift a {key} handle here")
            return cls._from_handle(cx, resource_any(resource_any_clone(box)))
        if isinstance(cx, GuestContext):
            host = host_context(cx, key)
        elif isinstance(cx, HostContext):
            host = cx
        else:
            raise TypeError(f"cannot lift a {key} handle here")
        rep, type_id = host_rep(current.ctx, box)
        return host.take(key, rep, type_id, own)

    return lower, lift
