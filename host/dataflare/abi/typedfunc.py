"""Fast guest calls: typed values straight to and from the C API's value arrays.

wasmtime-py's `Func.__call__` re-reads the function type on every call and
converts every value through per-element ctypes objects (one struct per
byte of a `list<u8>`). `TypedFunc` binds an export to its codecs once; each codec's `spec` is
compiled once (`fastnodes`, `fastgen`) into functions that write
`wasmtime_component_val_t` trees directly into Python-owned memory
(`fastmem`) and read results straight out of wasmtime's memory:

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
  the export is bound (`fastcheck`): wasmtime checks arguments too, but a
  mismatch found there leaves the instance unable to be entered again.
- When the optional C extension is built (`fastnative`), the whole call
  (lower, call with the GIL released, lift, release) runs in C with the
  same checks and messages; the Python functions above stay the fallback.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any, Generic, NoReturn, TypeVar, overload

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import Func
from wasmtime.component._enter import maybe_raise_last_exn

from dataflare.abi import fastnative
from dataflare.abi.codec import Codec
from dataflare.abi.fastcheck import check_func_type
from dataflare.abi.fastmem import VAL, _Arena, _func_call, release
from dataflare.abi.fastnodes import compile_spec
from dataflare.errors import GuestTrap

__all__ = ["TypedFunc", "fast_supported", "typed_func"]

R = TypeVar("R")

_use_native = True  # False: new TypedFuncs lower and lift in Python even with _fastc built


def fast_supported(codecs: Sequence[Codec[Any] | None]) -> bool:
    """True when every codec (None: no value) has a fast path."""
    return all(c is None or c.spec is not None for c in codecs)


def _raise_trap(err: int) -> NoReturn:
    """Raise for the `wasmtime_error_t *` a call returned (a host callback's exception first)."""
    error = wasmtime.WasmtimeError._from_ptr(ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t)))
    maybe_raise_last_exn()
    raise GuestTrap(f"guest trapped: {error}") from error


class TypedFunc(Generic[R]):
    """A guest export bound to its store and codecs: `f(*args)` is one typed call.

    Uses the fast path when every codec has a spec, else the stock
    `Func.__call__` with the codecs' own conversion. The fast path runs in C
    (`native`) when the extension is built, unless `native=False`. Not
    thread-safe, like the store it belongs to.
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
        "_result",
        "_result_addr",
        "_ret",
        "fast",
        "native",
    )

    def __init__(
        self,
        cx: Any,
        func: Func,
        params: Sequence[Codec[Any]],
        result: Codec[R] | None,
        *,
        fast: bool = True,
        check: bool = True,
        native: bool | None = None,
    ) -> None:
        self._cx = cx
        self._func = func
        self._params = tuple(params)
        self._ret = result
        self.fast = fast and fast_supported([*params, result])
        self._nparams = len(self._params)
        self._busy = False
        if self.fast:
            if check:  # at bind time, so a mismatch never reaches a call
                check_func_type(func, cx.store, self._params, result)
            self._lowers = tuple(compile_spec(c.spec)[0] for c in params if c.spec is not None)
            self._lifts = None if result is None else compile_spec(result.spec or ())[1]
            self._func_addr = ctypes.addressof(func._func)
            self._result = (ctypes.c_ubyte * VAL)()
            self._result_addr = ctypes.addressof(self._result)
            self._arena = _Arena()
        if native is None:
            native = _use_native
        self.native = self.fast and native and fastnative.AVAILABLE
        self._native: Any = None
        if self.native:
            self._native = fastnative.caller(
                self._func_addr,
                (func, self._result),
                [c.spec for c in params if c.spec is not None],
                None if result is None else result.spec,
                self._result_addr,
                _raise_trap,
            )

    def __call__(self, *args: Any) -> R:
        """Call the export with typed `args`; a trap raises `GuestTrap`."""
        if len(args) != self._nparams:
            raise TypeError(f"expected {self._nparams} arguments, got {len(args)}")
        if not self.fast:
            return self._stock(args)
        ctx = self._cx.store._context()  # raises ValueError once the store is closed
        if self._busy:  # re-entered from a host callback: a separate arena
            return self._call(ctx, args, _Arena(1 << 12))
        self._busy = True
        try:
            return self._call(ctx, args, self._arena)
        finally:
            self._arena.reset()
            self._busy = False

    def _call(self, ctx: Any, args: tuple[Any, ...], ar: _Arena) -> R:
        if self._native is not None:
            return self._native(ctypes.addressof(ctx.contents), args, ar)  # type: ignore[no-any-return]
        n = self._nparams
        params = ar.alloc(n * VAL) if n else 0
        a = params
        for lo, x in zip(self._lowers, args, strict=True):
            lo(x, a, ar)
            a += VAL
        has_result = self._lifts is not None
        res = self._result_addr
        err = _func_call(
            self._func_addr,
            ctypes.addressof(ctx.contents),
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

    def _stock(self, args: Sequence[Any]) -> R:
        from dataflare.abi.guest import call_export

        cx = self._cx
        raw = call_export(
            cx.store, self._func, [c.lower(v, cx) for c, v in zip(self._params, args, strict=True)]
        )
        return None if self._ret is None else self._ret.lift(raw, cx)  # type: ignore[return-value]


@overload
def typed_func(
    cx: Any, func: Func, params: Sequence[Codec[Any]], result: None, *, fast: bool = True
) -> TypedFunc[None]: ...


@overload
def typed_func(
    cx: Any, func: Func, params: Sequence[Codec[Any]], result: Codec[R], *, fast: bool = True
) -> TypedFunc[R]: ...


def typed_func(
    cx: Any,
    func: Func,
    params: Sequence[Codec[Any]],
    result: Codec[Any] | None,
    *,
    fast: bool = True,
) -> TypedFunc[Any]:
    """`func` bound to `cx` and its codecs (see `TypedFunc`)."""
    return TypedFunc(cx, func, params, result, fast=fast)
