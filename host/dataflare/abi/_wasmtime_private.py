"""Every use of wasmtime-py's private internals, checked when this module is imported.

wasmtime-py 50 has no public way to call a component function with value
arrays we build ourselves, nor to read a trap code from the `wasmtime_error_t`
such a call returns. This module is the only one in DataFlare that touches
wasmtime-py's private names: `wasmtime._ffi`, `Func._func`,
`Store._context()`, `WasmtimeError._from_ptr`, `Managed.ptr()` and
`wasmtime.component._enter.maybe_raise_last_exn`. wasmtime-py removes private
names between releases (it dropped `wasmtime.bindgen` in one), so
tests/abi/test_wasmtime_private.py names each of them, and the value layout
the fast path writes by hand is compared here, at import, with wasmtime-py's
own ctypes structs: an upgrade that changes any of it fails in one place.
"""

from __future__ import annotations

import ctypes
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import Func
from wasmtime.component._enter import maybe_raise_last_exn

__all__ = [
    "ENTRY",
    "ENTRY_VAL_OFFSET",
    "LAYOUT",
    "PAYLOAD_OFFSET",
    "VAL",
    "call_error",
    "check_layout",
    "context_address",
    "error_trap_code",
    "func_address",
    "func_call",
    "val_delete",
]

VAL = 32
"""sizeof(wasmtime_component_val_t): the kind byte at 0, the payload at `PAYLOAD_OFFSET`."""
PAYLOAD_OFFSET = 8
ENTRY = 48
"""sizeof(wasmtime_component_valrecord_entry_t): the name (a byte vec), then a val."""
ENTRY_VAL_OFFSET = 16


def check_layout(sizes: dict[str, int]) -> None:
    """Raise `ImportError` unless `sizes` (name -> bytes) match wasmtime-py's ctypes structs."""
    val, entry = ffi.wasmtime_component_val_t, ffi.wasmtime_component_valrecord_entry_t
    actual = {
        "VAL": ctypes.sizeof(val),
        "PAYLOAD_OFFSET": val.of.offset,
        "ENTRY": ctypes.sizeof(entry),
        "ENTRY_VAL_OFFSET": entry.val.offset,
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
check_layout(LAYOUT)

# Our own prototypes (fresh function objects: wasmtime-py's argtypes stay untouched).
func_call = ffi.dll["wasmtime_component_func_call"]
"""`wasmtime_component_func_call(func, context, args, nargs, results, nresults)`."""
func_call.restype = ctypes.c_void_p
func_call.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
val_delete = ffi.dll["wasmtime_component_val_delete"]
"""`wasmtime_component_val_delete(val)`: frees a result tree wasmtime wrote."""
val_delete.restype = None
val_delete.argtypes = [ctypes.c_void_p]

_trap_code = ffi.dll["wasmtime_trap_code"]
_trap_code.restype = ctypes.c_bool
_trap_code.argtypes = [ctypes.c_void_p, ctypes.POINTER(ffi.wasmtime_trap_code_t)]


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
    error = wasmtime.WasmtimeError._from_ptr(ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t)))
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
