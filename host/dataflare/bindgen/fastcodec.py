"""Fast guest calls: typed values straight to and from the C API's value arrays.

wasmtime-py's `Func.__call__` re-reads the function type on every call and
converts every value through per-element ctypes objects (one struct per
byte of a `list<u8>`). This module compiles each codec's `spec` once into a
pair of closures that write `wasmtime_component_val_t` trees directly into
Python-owned memory and read results straight out of wasmtime's memory:

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

Reads and writes go through `MEM`, a memoryview of the whole address space:
it is only ever indexed at addresses of live arena blocks or of result nodes
whose kinds were checked.
"""

from __future__ import annotations

import ctypes
import math
import operator
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, overload

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import Func
from wasmtime.component import _types as wt
from wasmtime.component._enter import maybe_raise_last_exn

from dataflare.bindgen.codec import Codec, Err, Ok, Some
from dataflare.errors import GuestTrap, WorldMismatchError

__all__ = ["TypedFunc", "fast_supported", "typed_func"]

R = TypeVar("R")

# x86-64/aarch64 user space fits in 47 bits; ctypes cannot make a larger array.
MEM = memoryview((ctypes.c_ubyte * (1 << 47)).from_address(0)).cast("B")

VAL = 32  # sizeof(wasmtime_component_val_t): kind at 0, payload at 8
ENTRY = 48  # sizeof(wasmtime_component_valrecord_entry): name (16 bytes), val

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

_lib = ffi.dll
# Our own prototypes (fresh function objects: wasmtime-py's argtypes stay untouched).
_func_call = _lib["wasmtime_component_func_call"]
_func_call.restype = ctypes.c_void_p
_func_call.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
_val_delete = _lib["wasmtime_component_val_delete"]
_val_delete.restype = None
_val_delete.argtypes = [ctypes.c_void_p]

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
    """Bump allocator over ctypes blocks that Python owns; reset after every call."""

    __slots__ = ("_blocks", "end", "pos", "size")

    def __init__(self, size: int = 1 << 16) -> None:
        self.size = size
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
        if len(self._blocks) > 1:
            used = sum(ctypes.sizeof(b) for b in self._blocks)
            # cap what stays allocated between calls
            self.size = min(used, 1 << 22)
            self._blocks.clear()
            self._new_block(self.size)
        else:
            self.pos = ctypes.addressof(self._blocks[0])


# ---------------------------------------------------------------- compilers


def _check_kind(addr: int, kind: int, what: str) -> None:
    if MEM[addr] != kind:
        raise TypeError(f"guest returned value kind {MEM[addr]} where {what} was expected")


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


def _list(elem: tuple[Any, ...]) -> tuple[_Lower, _Lift]:
    el_lower, el_lift = compile_spec(elem)

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, list | tuple):
            raise TypeError(f"list expects list, got {type(v).__name__}")
        n = len(v)
        p = ar.alloc(n * VAL)
        a = p
        for x in v:
            el_lower(x, a, ar)
            a += VAL
        _HEAD.pack_into(MEM, addr, K_LIST, n, p)

    def lift(addr: int) -> Any:
        k, n, p = _HEAD.unpack_from(MEM, addr)
        if k != K_LIST:
            _check_kind(addr, K_LIST, "list")
        return [el_lift(a) for a in range(p, p + n * VAL, VAL)]

    return lower, lift


def _tuple(elems: Sequence[tuple[Any, ...]]) -> tuple[_Lower, _Lift]:
    parts = [compile_spec(e) for e in elems]
    n = len(parts)
    if all(e[0] == "string" for e in elems):
        return _strings_tuple(n), _tuple_lift(n, tuple(li for _, li in parts))
    lowers = tuple(lo for lo, _ in parts)

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, tuple) or len(v) != n:
            raise TypeError(f"expected a tuple of {n} items, got {v!r}")
        p = ar.alloc(n * VAL)
        a = p
        for lo, x in zip(lowers, v, strict=True):
            lo(x, a, ar)
            a += VAL
        _HEAD.pack_into(MEM, addr, K_TUPLE, n, p)

    return lower, _tuple_lift(n, tuple(li for _, li in parts))


def _tuple_lift(n: int, lifts: tuple[_Lift, ...]) -> _Lift:
    offsets = tuple((i * VAL, li) for i, li in enumerate(lifts))

    def lift(addr: int) -> Any:
        k, size, p = _HEAD.unpack_from(MEM, addr)
        if k != K_TUPLE or size != n:
            raise TypeError(f"guest returned kind {k} (size {size}) where a {n}-tuple was expected")
        return tuple([li(p + off) for off, li in offsets])

    return lift


def _record(cls: type, fields: Sequence[tuple[str, str, tuple[Any, ...]]]) -> tuple[_Lower, _Lift]:
    n = len(fields)
    # The entries array with every name filled in: one copy per record.
    template = bytearray(n * ENTRY)
    for i, (_, wit, _) in enumerate(fields):
        name = wit.encode()
        _WORDS.pack_into(template, i * ENTRY, len(name), _static(name))
    tpl = bytes(template)
    size = len(tpl)
    plan = tuple(
        (py, i * ENTRY + 16, *compile_spec(spec)) for i, (py, _, spec) in enumerate(fields)
    )
    pys = [py for py, _, _, _ in plan]
    getter: Callable[[Any], Any] = operator.attrgetter(*pys) if pys else (lambda v: ())
    lowers = tuple((off, lo) for _, off, lo, _ in plan)
    lifts = tuple((off, li) for _, off, _, li in plan)

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__name__}, got {type(v).__name__}")
        values = getter(v)
        if n == 1:
            values = (values,)
        p = ar.alloc(size)
        MEM[p : p + size] = tpl
        for (off, lo), x in zip(lowers, values, strict=True):
            lo(x, p + off, ar)
        _HEAD.pack_into(MEM, addr, K_RECORD, n, p)

    def lift(addr: int) -> Any:
        k, count, p = _HEAD.unpack_from(MEM, addr)
        if k != K_RECORD or count != n:
            raise TypeError(
                f"guest returned kind {k} ({count} fields) where record {cls.__name__} was expected"
            )
        return cls(*[li(p + off) for off, li in lifts])

    return lower, lift


def _option(inner: tuple[Any, ...], nested: bool) -> tuple[_Lower, _Lift]:
    in_lower, in_lift = compile_spec(inner)
    pack, unpack = _OPT.pack_into, _OPT.unpack_from

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if v is None:
            pack(MEM, addr, K_OPTION, 0)
            return
        if nested:
            if not isinstance(v, Some):
                raise TypeError(f"expected Some(...) or None, got {v!r}")
            v = v.value
        p = ar.alloc(VAL)
        in_lower(v, p, ar)
        pack(MEM, addr, K_OPTION, p)

    def lift(addr: int) -> Any:
        k, p = unpack(MEM, addr)
        if k != K_OPTION:
            _check_kind(addr, K_OPTION, "option")
        if not p:
            return None
        return Some(in_lift(p)) if nested else in_lift(p)

    return lower, lift


def _payload(spec: tuple[Any, ...] | None) -> tuple[_Lower | None, _Lift | None]:
    if spec is None:
        return None, None
    return compile_spec(spec)


def _result(ok: tuple[Any, ...] | None, err: tuple[Any, ...] | None) -> tuple[_Lower, _Lift]:
    ok_lower, ok_lift = _payload(ok)
    err_lower, err_lift = _payload(err)
    pack, unpack = _RES.pack_into, _RES.unpack_from

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        t = type(v)
        if t is Ok or (t is not Err and isinstance(v, Ok)):
            is_ok, lo = True, ok_lower
        elif isinstance(v, Err):
            is_ok, lo = False, err_lower
        else:
            raise TypeError(f"expected Ok(...) or Err(...), got {v!r}")
        p = 0
        if lo is not None:
            p = ar.alloc(VAL)
            lo(v.value, p, ar)
        pack(MEM, addr, K_RESULT, is_ok, p)

    def lift(addr: int) -> Any:
        k, is_ok, p = unpack(MEM, addr)
        if k != K_RESULT:
            _check_kind(addr, K_RESULT, "result")
        li = ok_lift if is_ok else err_lift
        if (li is None) != (not p):
            raise TypeError("guest returned a result whose payload does not match its type")
        payload = None if li is None else li(p)
        return Ok(payload) if is_ok else Err(payload)

    return lower, lift


def _variant(cases: Sequence[tuple[str, type, tuple[Any, ...] | None]]) -> tuple[_Lower, _Lift]:
    by_class: dict[type, tuple[int, int, _Lower | None]] = {}
    by_name: dict[bytes, tuple[type, _Lift | None]] = {}
    for tag, cls, spec in cases:
        name = tag.encode()
        lo, li = _payload(spec)
        by_class[cls] = (len(name), _static(name), lo)
        by_name[name] = (cls, li)
    names = ", ".join(cls.__name__ for _, cls, _ in cases)
    pack, unpack = _VAR.pack_into, _VAR.unpack_from

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        found = by_class.get(type(v))
        if found is None:
            raise TypeError(f"expected one of {names}, got {type(v).__name__}")
        n, name, lo = found
        p = 0
        if lo is not None:
            p = ar.alloc(VAL)
            lo(v.value, p, ar)
        pack(MEM, addr, K_VARIANT, n, name, p)

    def lift(addr: int) -> Any:
        k, n, name, p = unpack(MEM, addr)
        if k != K_VARIANT:
            _check_kind(addr, K_VARIANT, "variant")
        found = by_name.get(bytes(MEM[name : name + n]) if n else b"")
        if found is None:
            raise ValueError("guest returned an unknown variant case")
        cls, li = found
        if (li is None) != (not p):
            raise TypeError("guest returned a variant case whose payload does not match its type")
        return cls() if li is None else cls(li(p))

    return lower, lift


def _enum(cls: Any) -> tuple[_Lower, _Lift]:
    statics = {}
    by_name = {}
    for member in cls:
        name = str(member.value).encode()
        statics[member] = (len(name), _static(name))
        by_name[name] = member
    pack = _HEAD.pack_into

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__name__}, got {v!r}")
        n, p = statics[v]
        pack(MEM, addr, K_ENUM, n, p)

    def lift(addr: int) -> Any:
        if MEM[addr] != K_ENUM:
            _check_kind(addr, K_ENUM, "enum")
        member = by_name.get(_read_name(addr + 8))
        if member is None:
            raise ValueError(f"guest returned an unknown {cls.__name__} case")
        return member

    return lower, lift


def _flags(cls: Any, names: Sequence[str]) -> tuple[_Lower, _Lift]:
    encoded = [name.encode() for name in names]
    entries = [(1 << i, _WORDS.pack(len(e), _static(e))) for i, e in enumerate(encoded)]
    bits = {e: 1 << i for i, e in enumerate(encoded)}

    def lower(v: Any, addr: int, ar: _Arena) -> None:
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__name__}, got {v!r}")
        value = v.value
        chosen = b"".join(entry for bit, entry in entries if value & bit)
        p = ar.alloc(len(chosen))
        MEM[p : p + len(chosen)] = chosen
        _HEAD.pack_into(MEM, addr, K_FLAGS, len(chosen) // 16, p)

    def lift(addr: int) -> Any:
        k, n, p = _HEAD.unpack_from(MEM, addr)
        if k != K_FLAGS:
            _check_kind(addr, K_FLAGS, "flags")
        total = 0
        for a in range(p, p + 16 * n, 16):
            bit = bits.get(_read_name(a))
            if bit is None:
                raise ValueError(f"guest returned an unknown {cls.__name__} flag")
            total |= bit
        return cls(total)

    return lower, lift


def _unit_lower(v: Any, addr: int, ar: _Arena) -> None:
    raise TypeError("a unit value has no representation")


def _unit_lift(addr: int) -> Any:
    raise TypeError("a unit value has no representation")


_GENERATED = {"list", "record", "option", "tuple", "result"}
_use_generated = True  # False: composites use the closures below (kept as the reference)

_compiled: dict[int, tuple[tuple[Any, ...], tuple[_Lower, _Lift]]] = {}
_compile_lock = threading.Lock()


def compile_spec(spec: tuple[Any, ...]) -> tuple[_Lower, _Lift]:
    """The (lower, lift) pair for a codec spec, compiled once per spec object."""
    hit = _compiled.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    tag = spec[0]
    out: tuple[_Lower, _Lift]
    if tag in _GENERATED and _use_generated:
        from dataflare.bindgen import fastgen

        out = fastgen.generate(spec)
    elif tag == "int":
        out = _int(spec[1], spec[2], spec[3])
    elif tag == "float":
        out = _float(spec[1])
    elif tag == "bool":
        out = (_bool_lower, _bool_lift)
    elif tag == "char":
        out = (_char_lower, _char_lift)
    elif tag == "string":
        out = (_string_lower, _string_lift)
    elif tag == "bytes":
        out = (_bytes_lower, _bytes_lift)
    elif tag == "list":
        out = _list(spec[1])
    elif tag == "tuple":
        out = _tuple(spec[1])
    elif tag == "record":
        out = _record(spec[1], spec[2])
    elif tag == "option":
        out = _option(spec[1], nested=False)
    elif tag == "nested_option":
        out = _option(spec[1], nested=True)
    elif tag == "result":
        out = _result(spec[1], spec[2])
    elif tag == "variant":
        out = _variant(spec[1])
    elif tag == "enum":
        out = _enum(spec[1])
    elif tag == "flags":
        out = _flags(spec[1], spec[2])
    elif tag == "unit":
        out = (_unit_lower, _unit_lift)
    else:
        raise ValueError(f"unknown codec spec {tag!r}")
    with _compile_lock:
        _compiled[id(spec)] = (spec, out)
    return out


def fast_supported(codecs: Sequence[Codec[Any] | None]) -> bool:
    """True when every codec (None: no value) has a fast path."""
    return all(c is None or c.spec is not None for c in codecs)


_ZERO_VAL = bytes(VAL)


def release(res: int) -> None:
    """Free a result tree wasmtime wrote at `res` and leave a plain `false` there.

    wasmtime assigns results in place, dropping what the slot held before:
    a freed tree left in a reused slot would be freed twice on the next call.
    """
    _val_delete(res)
    MEM[res : res + VAL] = _ZERO_VAL


# ---------------------------------------------------------------- type check


def _matches(spec: tuple[Any, ...] | None, ty: Any) -> bool:
    """Whether WIT type `ty` (wasmtime-py's reading of the component) is `spec`."""
    if spec is None or ty is None:
        return spec is None and ty is None
    tag = spec[0]
    if tag == "int":
        return type(ty) is _INT_TYPES[spec[1]]
    if tag == "float":
        return type(ty) is (wt.F32 if spec[1] == "f32" else wt.F64)
    if tag in _SIMPLE:
        return type(ty) is _SIMPLE[tag]
    if tag == "bytes":
        return isinstance(ty, wt.ListType) and type(ty.element) is wt.U8
    if tag == "list":
        return isinstance(ty, wt.ListType) and _matches(spec[1], ty.element)
    if tag == "tuple":
        if not isinstance(ty, wt.TupleType):
            return False
        elems = ty.elements
        return len(elems) == len(spec[1]) and all(map(_matches, spec[1], elems))
    if tag == "record":
        if not isinstance(ty, wt.RecordType):
            return False
        fields = ty.fields
        return len(fields) == len(spec[2]) and all(
            wit == name and _matches(fs, fty)
            for (_, wit, fs), (name, fty) in zip(spec[2], fields, strict=True)
        )
    if tag in ("option", "nested_option"):
        return isinstance(ty, wt.OptionType) and _matches(spec[1], ty.payload)
    if tag == "result":
        return (
            isinstance(ty, wt.ResultType) and _matches(spec[1], ty.ok) and _matches(spec[2], ty.err)
        )
    if tag == "variant":
        if not isinstance(ty, wt.VariantType):
            return False
        cases = ty.cases
        return len(cases) == len(spec[1]) and all(
            tag_ == name and _matches(cs, cty)
            for (tag_, _, cs), (name, cty) in zip(spec[1], cases, strict=True)
        )
    if tag == "enum":
        return isinstance(ty, wt.EnumType) and ty.names == [str(m.value) for m in spec[1]]
    if tag == "flags":
        return isinstance(ty, wt.FlagsType) and ty.names == list(spec[2])
    return False


_INT_TYPES = {
    "s8": wt.S8,
    "u8": wt.U8,
    "s16": wt.S16,
    "u16": wt.U16,
    "s32": wt.S32,
    "u32": wt.U32,
    "s64": wt.S64,
    "u64": wt.U64,
}
_SIMPLE = {"bool": wt.Bool, "char": wt.Char, "string": wt.String}


def check_func_type(func: Func, store: Any, params: Sequence[Codec[Any]], result: Any) -> None:
    """Raise `WorldMismatchError` unless `func`'s WIT type is exactly the codecs' types.

    wasmtime checks arguments itself, but a mismatch found there leaves the
    instance unable to be entered again; so the fast path checks once first.
    """
    fty = func.type(store)
    got = [ty for _, ty in fty.params]
    want = [c.spec for c in params]
    ok = len(got) == len(want) and all(map(_matches, want, got))
    ok = ok and _matches(None if result is None else result.spec, fty.result)
    if not ok:
        raise WorldMismatchError("the component's function type differs from the bindings' WIT")


# ---------------------------------------------------------------- calls


class TypedFunc(Generic[R]):
    """A guest export bound to its store and codecs: `f(*args)` is one typed call.

    Uses the fast path when every codec has a spec, else the stock
    `Func.__call__` with the codecs' own conversion. Not thread-safe, like
    the store it belongs to.
    """

    __slots__ = (
        "_arena",
        "_busy",
        "_checked",
        "_cx",
        "_func",
        "_func_addr",
        "_lifts",
        "_lowers",
        "_nparams",
        "_params",
        "_result",
        "_result_addr",
        "_ret",
        "fast",
    )

    def __init__(
        self,
        cx: Any,
        func: Func,
        params: Sequence[Codec[Any]],
        result: Codec[R] | None,
        *,
        fast: bool = True,
    ) -> None:
        self._cx = cx
        self._func = func
        self._params = tuple(params)
        self._ret = result
        self.fast = fast and fast_supported([*params, result])
        self._nparams = len(self._params)
        self._busy = False
        self._checked = False
        if self.fast:
            self._lowers = tuple(compile_spec(c.spec)[0] for c in params if c.spec is not None)
            self._lifts = None if result is None else compile_spec(result.spec or ())[1]
            self._func_addr = ctypes.addressof(func._func)
            self._result = (ctypes.c_ubyte * VAL)()
            self._result_addr = ctypes.addressof(self._result)
            self._arena = _Arena()

    def __call__(self, *args: Any) -> R:
        """Call the export with typed `args`; a trap raises `GuestTrap`."""
        if len(args) != self._nparams:
            raise TypeError(f"expected {self._nparams} arguments, got {len(args)}")
        if not self.fast:
            return self._stock(args)
        store = self._cx.store
        ctx = store._context()  # raises ValueError once the store is closed
        if not self._checked:
            check_func_type(self._func, store, self._params, self._ret)
            self._checked = True
        if self._busy:  # re-entered from a host callback: a separate arena
            return self._call(store, ctx, args, _Arena(1 << 12))
        self._busy = True
        try:
            return self._call(store, ctx, args, self._arena)
        finally:
            self._arena.reset()
            self._busy = False

    def _call(self, store: Any, ctx: Any, args: Sequence[Any], ar: _Arena) -> R:
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
            error = wasmtime.WasmtimeError._from_ptr(
                ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t))
            )
            maybe_raise_last_exn()
            raise GuestTrap(f"guest trapped: {error}") from error
        if self._lifts is None:
            return None  # type: ignore[return-value]
        try:
            return self._lifts(res)  # type: ignore[no-any-return]
        finally:
            release(res)

    def _stock(self, args: Sequence[Any]) -> R:
        from dataflare.bindgen.guest import call_export

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
