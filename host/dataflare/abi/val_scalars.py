"""Fast-call nodes for scalars, strings, bytes and unit: one (lower, lift) pair each.

`lower(value, addr, arena)` writes one value array element at `addr` and
`lift(addr)` reads one, checking values as strictly as `codec` does (same
exception types, integer ranges included) and every node's kind byte.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from dataflare.abi.val_memory import (
    _BOOL,
    _F32,
    _F64,
    _HEAD,
    _INT_KINDS,
    _U8_KINDS,
    _WORDS,
    K_BOOL,
    K_CHAR,
    K_F32,
    K_F64,
    K_LIST,
    K_STRING,
    K_TUPLE,
    K_U8,
    MEM,
    VAL,
    _Arena,
    _check_kind,
    _Lift,
    _Lower,
)

__all__ = [
    "_bool_lift",
    "_bool_lower",
    "_bytes_lift",
    "_bytes_lower",
    "_char_lift",
    "_char_lower",
    "_float",
    "_int",
    "_read_name",
    "_string_lift",
    "_string_lower",
    "_strings_tuple",
    "_unit_lift",
    "_unit_lower",
    "_utf8_lift",
    "_utf8_lower",
    "utf8_error",
]


def _int(name: str, lo: int, hi: int) -> tuple[_Lower, _Lift]:
    kind, code = _INT_KINDS[name]
    st = struct.Struct("<B7x" + code)
    pack, unpack = st.pack_into, st.unpack_from

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if type(v) is not int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name} expects int, got {type(v).__name__}")
            v = int(v)
        if not lo <= v <= hi:
            raise OverflowError(f"{v} is out of range for {name} [{lo}, {hi}]")
        pack(MEM, addr, kind, v)

    def lift(addr: int) -> Any:
        k, v = unpack(MEM, addr)
        if k != kind:
            _check_kind(addr, kind, name)
        return v

    return lower, lift


def _float(name: str) -> tuple[_Lower, _Lift]:
    kind, st = (K_F32, _F32) if name == "f32" else (K_F64, _F64)
    pack, unpack = st.pack_into, st.unpack_from

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if type(v) is not float:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise TypeError(f"{name} expects float, got {type(v).__name__}")
            v = float(v)
        try:
            pack(MEM, addr, kind, v)
        except OverflowError:
            # ctypes (the stock path) rounds to infinity instead of raising
            pack(MEM, addr, kind, math.copysign(math.inf, v))

    def lift(addr: int) -> Any:
        k, v = unpack(MEM, addr)
        if k != kind:
            _check_kind(addr, kind, name)
        return v

    return lower, lift


def _bool_lower(v: Any, addr: int, ar: _Arena) -> None:
    if type(v) is not bool:
        raise TypeError(f"bool expects bool, got {type(v).__name__}")
    _BOOL.pack_into(MEM, addr, K_BOOL, v)


def _bool_lift(addr: int) -> Any:
    k, v = _BOOL.unpack_from(MEM, addr)
    if k != K_BOOL:
        _check_kind(addr, K_BOOL, "bool")
    return v


_CHAR = struct.Struct("<B7xI")


def _char_lower(v: Any, addr: int, ar: _Arena) -> None:
    if type(v) is not str or len(v) != 1:
        raise TypeError(f"char expects a one-character str, got {v!r}")
    if 0xD800 <= ord(v) <= 0xDFFF:
        raise ValueError(f"char cannot be a surrogate code point ({ord(v):#x})")
    _CHAR.pack_into(MEM, addr, K_CHAR, ord(v))


def _char_lift(addr: int) -> Any:
    k, v = _CHAR.unpack_from(MEM, addr)
    if k != K_CHAR:
        _check_kind(addr, K_CHAR, "char")
    return chr(v)


def _put_bytes(kind: int, data: bytes, addr: int, ar: _Arena) -> None:
    """A string-like node (size, data pointer) whose bytes are copied into the arena."""
    n = len(data)
    p = ar.alloc(n)
    MEM[p : p + n] = data
    _HEAD.pack_into(MEM, addr, kind, n, p)


def _string_lower(v: Any, addr: int, ar: _Arena) -> None:
    if type(v) is not str:
        raise TypeError(f"string expects str, got {type(v).__name__}")
    data = v.encode()
    n = len(data)
    # ar.alloc inlined: strings are the most frequent node
    p = ar.pos
    q = p + ((n + 7) & ~7)
    if q > ar.end:
        p = ar.alloc(n)
    else:
        ar.pos = q
    MEM[p : p + n] = data
    _HEAD.pack_into(MEM, addr, K_STRING, n, p)


def _strings_tuple(n: int) -> _Lower:
    """A tuple of `n` strings in one allocation (metadata and config pairs)."""
    pack = _HEAD.pack_into

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, tuple) or len(v) != n:
            raise TypeError(f"expected a tuple of {n} items, got {v!r}")
        for x in v:
            if type(x) is not str:
                raise TypeError(f"string expects str, got {type(x).__name__}")
        encoded = [x.encode() for x in v]
        blob = b"".join(encoded)
        head = n * VAL
        p = ar.alloc(head + len(blob))
        d = p + head
        MEM[d : d + len(blob)] = blob
        a = p
        for data in encoded:
            k = len(data)
            pack(MEM, a, K_STRING, k, d)
            d += k
            a += VAL
        pack(MEM, addr, K_TUPLE, n, p)

    return lower


def _read_name(addr: int) -> bytes:
    # a wasm_name_t / size+data pair at addr
    n, p = _WORDS.unpack_from(MEM, addr)
    return bytes(MEM[p : p + n]) if n else b""


def _string_lift(addr: int) -> Any:
    k, n, p = _HEAD.unpack_from(MEM, addr)
    if k != K_STRING:
        _check_kind(addr, K_STRING, "string")
    return str(MEM[p : p + n], "utf-8") if n else ""


def utf8_error(data: Any) -> int:
    """The offset where strict UTF-8 first fails in bytes-like `data`, or -1 (Python path)."""
    try:
        str(data, "utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return -1


def _utf8_lower(v: Any, addr: int, ar: _Arena) -> None:
    if type(v) is not bytes:
        if not isinstance(v, bytes | bytearray | memoryview):
            raise TypeError(f"string expects UTF-8 bytes, got {type(v).__name__}")
        if isinstance(v, memoryview):
            if not v.c_contiguous:
                raise TypeError("string expects UTF-8 bytes, got a non-contiguous memoryview")
            v = v.cast("B")
    # wasmtime aborts the process on a string that is not UTF-8
    bad = utf8_error(v)
    if bad >= 0:
        raise ValueError(f"string expects UTF-8 bytes: invalid at byte {bad}")
    n = len(v)
    p = ar.alloc(n)
    MEM[p : p + n] = v
    _HEAD.pack_into(MEM, addr, K_STRING, n, p)


def _utf8_lift(addr: int) -> Any:
    k, n, p = _HEAD.unpack_from(MEM, addr)
    if k != K_STRING:
        _check_kind(addr, K_STRING, "string")
    return bytes(MEM[p : p + n]) if n else b""


def _bytes_lower(v: Any, addr: int, ar: _Arena) -> None:
    if type(v) is not bytes:
        if not isinstance(v, bytes | bytearray | memoryview):
            raise TypeError(f"list<u8> expects bytes, got {type(v).__name__}")
        v = bytes(v)
    n = len(v)
    size = n * VAL
    p = ar.alloc(size)
    if n:
        kinds = _U8_KINDS if n <= len(_U8_KINDS) else bytes([K_U8]) * n
        MEM[p : p + size : VAL] = kinds[:n] if n != len(kinds) else kinds
        MEM[p + 8 : p + 8 + size : VAL] = v
    _HEAD.pack_into(MEM, addr, K_LIST, n, p)


def _bytes_lift(addr: int) -> Any:
    k, n, p = _HEAD.unpack_from(MEM, addr)
    if k != K_LIST:
        _check_kind(addr, K_LIST, "list<u8>")
    if not n:
        return b""
    end = p + n * VAL
    kinds = MEM[p:end:VAL]
    if kinds != (_U8_KINDS[:n] if n <= len(_U8_KINDS) else bytes([K_U8]) * n):
        raise TypeError("guest returned a list<u8> with elements of another kind")
    return bytes(MEM[p + 8 : end + 8 : VAL])


def _unit_lower(v: Any, addr: int, ar: _Arena) -> None:
    raise TypeError("a unit value has no representation")


def _unit_lift(addr: int) -> Any:
    raise TypeError("a unit value has no representation")
