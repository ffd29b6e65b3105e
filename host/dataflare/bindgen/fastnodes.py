"""Per-kind lowering and lifting closures for fast calls, compiled once per codec spec.

Each WIT type node becomes a `lower(value, addr, arena)` that writes one
value array element at `addr`, and a `lift(addr)` that reads one. Values are
checked as strictly as `codec` checks them (same exception types, integer
ranges included); every node read checks its kind byte, so a mismatched
component raises `TypeError` instead of reading garbage. Composite types get
straight-line source from `fastgen` instead; these closures stay as the
reference (`_use_generated = False`), which the equivalence tests also run.
"""

from __future__ import annotations

import math
import operator
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any

from dataflare.bindgen.codec import Err, Ok, Some
from dataflare.bindgen.fastmem import (
    _BOOL,
    _F32,
    _F64,
    _HEAD,
    _INT_KINDS,
    _OPT,
    _RES,
    _U8_KINDS,
    _VAR,
    _WORDS,
    ENTRY,
    K_BOOL,
    K_CHAR,
    K_ENUM,
    K_F32,
    K_F64,
    K_FLAGS,
    K_LIST,
    K_OPTION,
    K_RECORD,
    K_RESULT,
    K_STRING,
    K_TUPLE,
    K_U8,
    K_VARIANT,
    MEM,
    VAL,
    _Arena,
    _check_kind,
    _Lift,
    _Lower,
    _static,
)

__all__ = ["compile_spec"]


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
