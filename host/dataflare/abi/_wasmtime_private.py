"""Every use of wasmtime-py's private internals, checked when this module is imported.

wasmtime-py 50 has no public way to call a component function with value
arrays we build ourselves, nor to read a trap code from the `wasmtime_error_t`
such a call returns. This module is the only one in DataFlare that touches
wasmtime-py's private names: `wasmtime._ffi`, `Func._func`,
`Store._context()`, `WasmtimeError._from_ptr`, `WasmtimeError._consume`,
`Managed.ptr()`, `ResourceAny._from_ptr`, `LinkerInstance._assert_not_locked`
and `wasmtime.component._enter` (`maybe_raise_last_exn`, `LAST_EXCEPTION`).
wasmtime-py removes private names between releases (it dropped
`wasmtime.bindgen` in one), so tests/abi/test_wasmtime_private.py names each
of them, and the value layout the fast path writes by hand is compared here,
at import, with wasmtime-py's own ctypes structs: an upgrade that changes any
of it fails in one place.
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import Func, LinkerInstance, ResourceAny, ResourceHost, _enter
from wasmtime.component._enter import maybe_raise_last_exn

__all__ = [
    "ENTRY",
    "ENTRY_VAL_OFFSET",
    "K_RESOURCE",
    "LAYOUT",
    "PAYLOAD_OFFSET",
    "VAL",
    "call_error",
    "check_layout",
    "context_address",
    "error_trap_code",
    "func_address",
    "func_call",
    "host_rep",
    "host_to_any",
    "link_func",
    "resource_any",
    "resource_any_address",
    "resource_any_clone",
    "resource_any_delete",
    "resource_host_address",
    "val_clone",
    "val_delete",
]

VAL = 32
"""sizeof(wasmtime_component_val_t): the kind byte at 0, the payload at `PAYLOAD_OFFSET`."""
PAYLOAD_OFFSET = 8
ENTRY = 48
"""sizeof(wasmtime_component_valrecord_entry_t): the name (a byte vec), then a val."""
ENTRY_VAL_OFFSET = 16
K_RESOURCE = 21
"""The kind of a resource handle val: its payload is a `wasmtime_component_resource_any_t *`."""


def check_layout(sizes: dict[str, int]) -> None:
    """Raise `ImportError` unless `sizes` (name -> bytes) match wasmtime-py's ctypes structs."""
    val, entry = ffi.wasmtime_component_val_t, ffi.wasmtime_component_valrecord_entry_t
    actual = {
        "VAL": ctypes.sizeof(val),
        "PAYLOAD_OFFSET": val.of.offset,
        "ENTRY": ctypes.sizeof(entry),
        "ENTRY_VAL_OFFSET": entry.val.offset,
        "K_RESOURCE": ffi.WASMTIME_COMPONENT_RESOURCE.value,
    }
    wrong = {k: (v, actual[k]) for k, v in sizes.items() if actual.get(k) != v}
    if wrong:
        found = ", ".join(f"{k} is {a}, not {v}" for k, (v, a) in sorted(wrong.items()))
        from importlib.metadata import version

        raise ImportError(
            f"wasmtime-py {version('wasmtime')} changed the component value layout"
            f" ({found}): DataFlare's fast call path needs updating for this release"
        )


LAYOUT = {
    "VAL": VAL,
    "PAYLOAD_OFFSET": PAYLOAD_OFFSET,
    "ENTRY": ENTRY,
    "ENTRY_VAL_OFFSET": ENTRY_VAL_OFFSET,
}
"""The layout the Python fast path writes by hand (the C extension reports its own)."""
check_layout({**LAYOUT, "K_RESOURCE": K_RESOURCE})


def _proto(name: str, restype: Any, *argtypes: Any) -> Any:
    """Our own prototype (a fresh function object: wasmtime-py's argtypes stay untouched)."""
    fn = ffi.dll[name]
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_P = ctypes.c_void_p
func_call = _proto(
    "wasmtime_component_func_call", _P, _P, _P, _P, ctypes.c_size_t, _P, ctypes.c_size_t
)
"""`wasmtime_component_func_call(func, context, args, nargs, results, nresults)`."""
val_delete = _proto("wasmtime_component_val_delete", None, _P)
"""`wasmtime_component_val_delete(val)`: frees a result tree wasmtime wrote."""
val_clone = _proto("wasmtime_component_val_clone", None, _P, _P)
"""`wasmtime_component_val_clone(src, dst)`: a deep copy wasmtime owns."""
_any_clone = _proto("wasmtime_component_resource_any_clone", _P, _P)
_any_delete = _proto("wasmtime_component_resource_any_delete", None, _P)
_any_to_host = _proto("wasmtime_component_resource_any_to_host", _P, _P, _P, _P)
_host_to_any = _proto("wasmtime_component_resource_host_to_any", _P, _P, _P, _P)
_host_rep = _proto("wasmtime_component_resource_host_rep", ctypes.c_uint32, _P)
_host_type = _proto("wasmtime_component_resource_host_type", ctypes.c_uint32, _P)
_host_delete = _proto("wasmtime_component_resource_host_delete", None, _P)
_add_func = _proto(
    "wasmtime_component_linker_instance_add_func", _P, _P, _P, ctypes.c_size_t, _P, _P, _P
)

_trap_code = _proto(
    "wasmtime_trap_code", ctypes.c_bool, _P, ctypes.POINTER(ffi.wasmtime_trap_code_t)
)


def func_address(func: Func) -> int:
    """Address of the `wasmtime_component_func_t` inside `func` (valid while `func` lives)."""
    return ctypes.addressof(func._func)


def context_address(store: wasmtime.Store) -> int:
    """Address of `store`'s `wasmtime_context_t`; `ValueError` once the store is closed."""
    return ctypes.addressof(store._context().contents)


def call_error(err: int) -> wasmtime.WasmtimeError:
    """The error for the `wasmtime_error_t *` a call returned, which it now owns.

    An exception a host callback raised during the call is raised instead,
    as wasmtime-py's own `Func.__call__` does.
    """
    error = _error(err)
    maybe_raise_last_exn()
    return error


def error_trap_code(error: wasmtime.WasmtimeError | wasmtime.Trap) -> wasmtime.TrapCode | None:
    """wasmtime's trap code for `error`, None when it is not a trap with a code.

    The C API of wasmtime 50 reads codes from a `wasm_trap_t` only. A
    `wasmtime_error_t` wraps the same thing (one `anyhow::Error`, as does
    `wasm_trap_t`), so its pointer is passed as one; the contract test
    checks that fuel, epoch and unreachable traps come back with their codes.
    """
    if isinstance(error, wasmtime.Trap):
        return error.trap_code
    code = ffi.wasmtime_trap_code_t()
    ptr: Any = error.ptr()
    if _trap_code(ctypes.cast(ptr, ctypes.c_void_p), ctypes.byref(code)):
        return wasmtime.TrapCode(code.value)
    return None


def resource_any_clone(box: int) -> int:
    """A new `wasmtime_component_resource_any_t *` for the same handle (the caller frees it)."""
    return _any_clone(box)  # type: ignore[no-any-return]


def resource_any_delete(box: int) -> None:
    """Free a handle box made by `resource_any_clone` or `host_to_any`."""
    _any_delete(box)


def resource_any(box: int) -> ResourceAny:
    """A `ResourceAny` that takes over `box`, which it frees when collected."""
    return ResourceAny._from_ptr(
        ctypes.cast(box, ctypes.POINTER(ffi.wasmtime_component_resource_any_t))
    )


def resource_any_address(handle: ResourceAny | ResourceHost) -> int:
    """The address of `handle`'s box (valid while `handle` lives)."""
    ptr: Any = handle.ptr()
    return ctypes.cast(ptr, ctypes.c_void_p).value or 0


resource_host_address = resource_any_address
"""The same, for a `ResourceHost` handle."""


def _error(err: int) -> wasmtime.WasmtimeError:
    """The `WasmtimeError` that takes over the `wasmtime_error_t *` at `err`."""
    return wasmtime.WasmtimeError._from_ptr(ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t)))


def _check(err: int | None) -> None:
    if err:
        raise _error(err)


def host_to_any(ctx: int, host: int) -> int:
    """A new handle box in store context `ctx` for host handle box `host` (the caller frees it)."""
    out = ctypes.c_void_p()
    _check(_host_to_any(ctx, host, ctypes.byref(out)))
    return out.value or 0


def host_rep(ctx: int, box: int) -> tuple[int, int]:
    """(rep, type id) of the host resource handle `box` in store context `ctx`.

    `WasmtimeError` when the handle is not a host resource.
    """
    out = ctypes.c_void_p()
    _check(_any_to_host(ctx, box, ctypes.byref(out)))
    try:
        return _host_rep(out), _host_type(out)
    finally:
        _host_delete(out)


HostCallback = Callable[[int, int, int, int, int], None]
"""`cb(ctx, args, nargs, results, nresults)`: serves one guest call of a host function."""

_callbacks: dict[int, HostCallback] = {}
_ids = itertools.count(1)


def _trampoline(
    env: int | None, ctx: int, ty: int, args: int, nargs: int, res: int, nres: int
) -> int:
    # An exception must not unwind through wasmtime: like wasmtime-py's
    # `catch_exceptions`, a WasmtimeError is handed to wasmtime as the trap
    # and any other exception is held in `_enter.LAST_EXCEPTION`, which the
    # caller re-raises once the guest call has returned (`call_error`).
    try:
        _callbacks[env or 0](ctx, args, nargs, res, nres)
    except wasmtime.WasmtimeError as e:
        return ctypes.cast(e._consume(), ctypes.c_void_p).value or 0
    except Exception as e:
        _enter.LAST_EXCEPTION = e
        error = wasmtime.WasmtimeError("python exception")
        return ctypes.cast(error._consume(), ctypes.c_void_p).value or 0
    return 0


def _finalize(env: int | None) -> None:
    _callbacks.pop(env or 0, None)


# pointer arguments as plain ints: ctypes builds no pointer objects per call
_TRAMPOLINE = ctypes.CFUNCTYPE(
    ctypes.c_size_t, _P, _P, _P, _P, ctypes.c_size_t, _P, ctypes.c_size_t
)(_trampoline)
_FINALIZE = ctypes.CFUNCTYPE(None, _P)(_finalize)


def link_func(inst: LinkerInstance, name: str, callback: HostCallback) -> None:
    """Define host function `name` in `inst`, served by `callback` on the raw value arrays.

    What wasmtime-py's `LinkerInstance.add_func` does, minus its value
    conversion. The argument vals belong to wasmtime (read them, never free
    them); wasmtime frees the result vals after the callback returns, so
    they must be built with wasmtime's allocator (`val_clone`).
    """
    inst._assert_not_locked()
    data = name.encode()
    key = next(_ids)
    _callbacks[key] = callback
    ptr: Any = inst.ptr()
    err = _add_func(ptr, data, len(data), _TRAMPOLINE, key, _FINALIZE)
    if err:
        _callbacks.pop(key, None)
        _check(err)
