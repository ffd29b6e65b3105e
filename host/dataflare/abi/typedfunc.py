"""`TypedFunc`: a guest export bound to its codecs, and the call into the guest.

wasmtime-py's `Func.__call__` re-reads the function type on every call and
converts every value through per-element ctypes objects (one struct per
byte of a `list<u8>`). `TypedFunc` binds an export to its codecs once; each
codec's `spec` is compiled once, in C (`c_ext`) or in Python (`val_nodes`),
into functions that write `wasmtime_component_val_t` trees directly into
Python-owned memory (`val_memory`) and read results straight out of
wasmtime's memory:

- `wasmtime_component_func_call` only *borrows* its arguments (wasmtime-py
  deletes them itself afterwards), so the whole argument tree lives in one
  reusable `_Arena` of ctypes blocks that Python owns and frees; nothing of it
  is ever handed to a wasmtime delete function.
- The result tree is owned by wasmtime: it is read in place and released with
  one `wasmtime_component_val_delete` on the root, whatever happens while
  reading it (post-return runs inside the C call, as in wasmtime-py). The
  result slot is reused, so it is reset to a plain value after each release:
  wasmtime drops a slot's old contents when it writes a result there.
- Bytes move with one strided buffer operation each way; record field names,
  enum and flag names are encoded once into permanent buffers.
- Every node read checks its kind byte and every pointer it follows comes
  from a node of the checked kind, so a mismatched component raises
  `TypeError` instead of reading garbage; values are checked as strictly as
  `codec` checks them (same exception types, integer ranges included).
- The component's function type is checked against the codecs once, when
  the export is bound (`functype`): wasmtime checks arguments too, but a
  mismatch found there leaves the instance unable to be entered again.
- When the optional C extension is built (`c_ext`), the whole call
  (lower, call with the GIL released, lift, release) runs in C with the
  same checks and messages. The Python nodes are the one other path: what
  runs without a C compiler, and the reference the equivalence tests hold C
  to. Which one a `TypedFunc` uses is its `native` argument, fixed when it
  is bound; `None` means C when built.
- A call that fails becomes `GuestTrap` through `traps.guest_trap`, the one
  translation of wasmtime errors, here and in `guest`.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any, Generic, NoReturn, TypeVar, overload

from wasmtime.component import Func

from dataflare.abi import c_ext
from dataflare.abi._wasmtime_private import call_error, context_address, func_address, func_call
from dataflare.abi.codec import Codec
from dataflare.abi.functype import check_func_type
from dataflare.abi.traps import guest_trap
from dataflare.abi.val_memory import VAL, _Arena, release
from dataflare.abi.val_nodes import compile_spec
from dataflare.abi.val_resources import CallScope, has_resources

__all__ = ["TypedFunc", "typed_func"]

R = TypeVar("R")


def _raise_trap(err: int) -> NoReturn:
    """Raise for the `wasmtime_error_t *` a call returned (a host callback's exception first)."""
    error = call_error(err)
    raise guest_trap(error) from error


class TypedFunc(Generic[R]):
    """A guest export bound to its store and codecs: `f(*args)` is one typed call.

    The call runs in C when `native` is True, in Python when it is False,
    and in C if the extension is built when it is None; True without the
    extension raises `RuntimeError`. An export whose values include resource
    handles publishes its context to their nodes for the length of the call
    (`val_resources.CallScope`). Not thread-safe, like the store it belongs to.
    """

    __slots__ = (
        "_arena",
        "_busy",
        "_cx",
        "_func",
        "_func_addr",
        "_lifts",
        "_lowers",
        "_native",
        "_nparams",
        "_params",
        "_resources",
        "_result",
        "_result_addr",
        "_ret",
        "native",
    )

    def __init__(
        self,
        cx: Any,
        func: Func,
        params: Sequence[Codec[Any]],
        result: Codec[R] | None,
        *,
        check: bool = True,
        native: bool | None = None,
    ) -> None:
        self._cx = cx
        self._func = func
        self._params = tuple(params)
        self._ret = result
        self._nparams = len(self._params)
        self._busy = False
        if check:  # at bind time, so a mismatch never reaches a call
            check_func_type(func, cx.store, self._params, result)
        self._lowers = tuple(compile_spec(c.spec)[0] for c in params)
        self._lifts = None if result is None else compile_spec(result.spec)[1]
        self._resources = has_resources(tuple(c.spec for c in (*params, result) if c))
        self._func_addr = func_address(func)
        self._result = (ctypes.c_ubyte * VAL)()
        self._result_addr = ctypes.addressof(self._result)
        self._arena = _Arena()
        self.native = native = c_ext.choose(native)
        self._native: Any = None
        if native:
            self._native = c_ext.caller(
                self._func_addr,
                (func, self._result),
                [c.spec for c in params],
                None if result is None else result.spec,
                self._result_addr,
                _raise_trap,
            )

    def __call__(self, *args: Any) -> R:
        """Call the export with typed `args`; a trap raises `GuestTrap`."""
        if len(args) != self._nparams:
            raise TypeError(f"expected {self._nparams} arguments, got {len(args)}")
        ctx = context_address(self._cx.store)  # raises ValueError once the store is closed
        if self._busy:  # re-entered from a host callback: a separate arena
            ar = _Arena(1 << 12)
        else:
            ar = self._arena
            self._busy = True
        try:
            if self._resources:
                with CallScope(self._cx, ctx):
                    return self._call(ctx, args, ar)
            return self._call(ctx, args, ar)
        finally:
            ar.reset()
            if ar is self._arena:
                self._busy = False

    def _call(self, ctx: int, args: tuple[Any, ...], ar: _Arena) -> R:
        if self._native is not None:
            return self._native(ctx, args, ar)  # type: ignore[no-any-return]
        n = self._nparams
        params = ar.alloc(n * VAL) if n else 0
        a = params
        for lo, x in zip(self._lowers, args, strict=True):
            lo(x, a, ar)
            a += VAL
        has_result = self._lifts is not None
        res = self._result_addr
        err = func_call(
            self._func_addr,
            ctx,
            params,
            n,
            res if has_result else None,
            1 if has_result else 0,
        )
        if err:
            _raise_trap(err)
        if self._lifts is None:
            return None  # type: ignore[return-value]
        try:
            return self._lifts(res)  # type: ignore[no-any-return]
        finally:
            release(res)


@overload
def typed_func(
    cx: Any, func: Func, params: Sequence[Codec[Any]], result: None
) -> TypedFunc[None]: ...


@overload
def typed_func(
    cx: Any, func: Func, params: Sequence[Codec[Any]], result: Codec[R]
) -> TypedFunc[R]: ...


def typed_func(
    cx: Any,
    func: Func,
    params: Sequence[Codec[Any]],
    result: Codec[Any] | None,
) -> TypedFunc[Any]:
    """`func` bound to `cx` and its codecs, on the codec path `cx.native` names."""
    return TypedFunc(cx, func, params, result, native=cx.native)
