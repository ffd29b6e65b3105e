"""Memory for fast guest calls: the C API's value layout, an arena, and result release.

`wasmtime_component_val_t` is 32 bytes (kind byte at 0, payload at 8); a
record entry is 48 (name, then value): `_wasmtime_private` checks both against
wasmtime-py's ctypes structs at import. Argument trees are written into an
`_Arena` of ctypes blocks Python owns (wasmtime only borrows arguments);
result trees are wasmtime's and go back through `release`.

Reads and writes go through `MEM`, a memoryview of the whole address space:
it is only ever indexed at addresses of live arena blocks or of result nodes
whose kinds were checked.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable
from typing import Any

from dataflare.abi._wasmtime_private import ENTRY, VAL, resource_any_delete, val_delete

__all__ = ["ENTRY", "MEM", "U8_VALS_MAX", "VAL", "release", "u8_kinds"]


# x86-64/aarch64 user space fits in 47 bits; ctypes cannot make a larger array.
MEM = memoryview((ctypes.c_ubyte * (1 << 47)).from_address(0)).cast("B")

K_BOOL, K_S8, K_U8, K_S16, K_U16, K_S32, K_U32, K_S64, K_U64 = range(9)
K_F32, K_F64, K_CHAR, K_STRING, K_LIST, K_RECORD, K_TUPLE = range(9, 16)
K_VARIANT, K_ENUM, K_OPTION, K_RESULT, K_FLAGS = range(16, 21)

_INT_KINDS = {
    "s8": (K_S8, "b"),
    "u8": (K_U8, "B"),
    "s16": (K_S16, "h"),
    "u16": (K_U16, "H"),
    "s32": (K_S32, "i"),
    "u32": (K_U32, "I"),
    "s64": (K_S64, "q"),
    "u64": (K_U64, "Q"),
}


_HEAD = struct.Struct("<B7xQQ")  # kind, then two 8-byte payload words
_KIND = struct.Struct("<B7x")
_WORD = struct.Struct("<Q")
_WORDS = struct.Struct("<QQ")
_OPT = struct.Struct("<B7xQ")  # option: kind, pointer or NULL
_RES = struct.Struct("<B7x?7xQ")  # result: kind, is_ok, pointer or NULL
_VAR = struct.Struct("<B7xQQQ")  # variant: kind, name size, name data, pointer
_F32 = struct.Struct("<B7xf")
_F64 = struct.Struct("<B7xd")
_BOOL = struct.Struct("<B7x?")
_U8_KINDS = bytes([K_U8]) * 4096  # the kind byte of a list<u8> element, repeated
_U8_KINDS_VIEW = memoryview(_U8_KINDS)


def u8_kinds(n: int) -> Any:
    """`n` list<u8> element kind bytes (a view: no copy for the common sizes)."""
    return _U8_KINDS_VIEW[:n] if n <= 4096 else bytes([K_U8]) * n


# n list<u8> elements with only their kinds set: one contiguous copy beats a
# strided one for the kind bytes
_U8_VALS = memoryview((bytes([K_U8]) + bytes(VAL - 1)) * 4096)
U8_VALS_MAX = 4096 * VAL


_Lower = Callable[[Any, int, "_Arena"], None]
_Lift = Callable[[int], Any]

_permanent: list[Any] = []  # static name buffers, alive for the process


def _static(data: bytes) -> int:
    """Address of a permanent copy of `data` (record, enum and flag names)."""
    buf = ctypes.create_string_buffer(data, max(len(data), 1))
    _permanent.append(buf)
    return ctypes.addressof(buf)


class _Arena:
    """Bump allocator over ctypes blocks that Python owns; reset after every call.

    It also owns the resource handle boxes lowered into it (`handles`):
    wasmtime only borrows argument vals, so they are freed at `reset`.
    """

    __slots__ = ("_blocks", "end", "handles", "pos", "size")

    def __init__(self, size: int = 1 << 16) -> None:
        self.size = size
        self.handles: list[int] = []
        self._blocks: list[Any] = []
        self.pos = self.end = 0
        self._new_block(size)

    def _new_block(self, n: int) -> None:
        block = (ctypes.c_ubyte * n)()
        self._blocks.append(block)
        self.pos = ctypes.addressof(block)
        self.end = self.pos + n

    def alloc(self, n: int) -> int:
        """`n` bytes, 8-aligned, valid until `reset`."""
        p = self.pos
        q = p + ((n + 7) & ~7)
        if q > self.end:
            self._new_block(max(n + 8, self.size))
            p = self.pos
            q = p + ((n + 7) & ~7)
        self.pos = q
        return p

    def reset(self) -> None:
        """Free everything allocated; the next call reuses one block sized to fit."""
        if self.handles:
            for box in self.handles:
                resource_any_delete(box)
            self.handles.clear()
        if len(self._blocks) > 1:
            used = sum(ctypes.sizeof(b) for b in self._blocks)
            # cap what stays allocated between calls
            self.size = min(used, 1 << 22)
            self._blocks.clear()
            self._new_block(self.size)
        else:
            self.pos = ctypes.addressof(self._blocks[0])


def _check_kind(addr: int, kind: int, what: str) -> None:
    if MEM[addr] != kind:
        raise TypeError(f"guest returned value kind {MEM[addr]} where {what} was expected")


_ZERO_VAL = bytes(VAL)


def release(res: int) -> None:
    """Free a result tree wasmtime wrote at `res` and leave a plain `false` there.

    wasmtime assigns results in place, dropping what the slot held before:
    a freed tree left in a reused slot would be freed twice on the next call.
    """
    val_delete(res)
    MEM[res : res + VAL] = _ZERO_VAL
