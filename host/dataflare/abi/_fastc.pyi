"""Type stub for the optional C extension built from _fastc.c (see c_ext)."""

from collections.abc import Callable
from typing import Any

VAL: int
LAYOUT: dict[str, int]

class Node:
    """A codec plan compiled into a C tree."""

    def __init__(self, plan: tuple[Any, ...], /) -> None: ...
    def lower(self, value: Any, addr: int, arena: Any, /) -> None:
        """Write `value` as the val at `addr`, allocating from `arena`."""

    def lift(self, addr: int, /) -> Any:
        """Read the val at `addr`."""

class Caller:
    """An export bound to its nodes: `caller(ctx_addr, args, arena)` is one call."""

    def __init__(
        self,
        func: int,
        params: tuple[Node, ...],
        result: Node | None,
        result_addr: int,
        on_error: Callable[[int], Any],
        owner: Any,
    ) -> None: ...
    def __call__(self, ctx_addr: int, args: tuple[Any, ...], arena: Any, /) -> Any: ...

def setup(
    func_call: int | None,
    val_delete: int | None,
    ok: type,
    err: type,
    some: type,
    ok_slots: tuple[Any, ...] | None,
    err_slots: tuple[Any, ...] | None,
    some_slots: tuple[Any, ...] | None,
    /,
) -> None:
    """Bind the wasmtime C API functions and the Ok/Err/Some classes (once)."""

def utf8_error(data: Any, /) -> int:
    """The offset where strict UTF-8 first fails in bytes-like `data`, or -1."""
