"""The one translation of wasmtime errors from guest calls, and their trap codes.

Every guest call (`typedfunc`, `guest`) turns a wasmtime error into
`GuestTrap` here, with the error as its `__cause__`. `trap_code` then reads
wasmtime's own code from that cause (`OUT_OF_FUEL`, `INTERRUPT`,
`UNREACHABLE`...), so callers classify a trap without reading its message.
What reaches a caller, as measured with wasmtime 50 (tests/abi/test_traps.py):

- fuel used up: `OUT_OF_FUEL`; epoch deadline: `INTERRUPT`;
- a guest panic or abort: `UNREACHABLE` (a Rust guest out of memory aborts
  this way too, after printing "memory allocation of N bytes failed": that
  text is the only sign of it);
- a `WasmtimeError` raised by a host function: no code;
- any other exception raised by a host function: that exception itself,
  never wrapped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import wasmtime
from wasmtime import TrapCode

from dataflare.abi._wasmtime_private import error_trap_code
from dataflare.errors import GuestTrap

__all__ = ["TrapCode", "guest_errors", "guest_trap", "trap_code"]


def guest_trap(error: wasmtime.WasmtimeError | wasmtime.Trap) -> GuestTrap:
    """The `GuestTrap` for a wasmtime error a guest call raised (raise it `from error`)."""
    return GuestTrap(f"guest trapped: {error}")


@contextmanager
def guest_errors() -> Iterator[None]:
    """Turn any wasmtime error or trap raised inside the block into `GuestTrap`."""
    try:
        yield
    except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
        raise guest_trap(exc) from exc


def trap_code(exc: BaseException) -> TrapCode | None:
    """wasmtime's trap code behind `exc` (itself or a cause), None when there is none."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, wasmtime.WasmtimeError | wasmtime.Trap):
            return error_trap_code(seen)
        seen = seen.__cause__
    return None
