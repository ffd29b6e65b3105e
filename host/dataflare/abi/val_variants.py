"""Fast-call nodes for options, results, variants, enums and flags.

Case names are interned once (`_static`) so lowering writes only pointers;
lifting rejects unknown cases and payloads that do not match their type.

compile_spec is imported inside each builder because `val_nodes` imports this
module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dataflare.abi.codec import Err, Ok, Some
from dataflare.abi.val_memory import (
    _HEAD,
    _OPT,
    _RES,
    _VAR,
    _WORDS,
    K_ENUM,
    K_FLAGS,
    K_OPTION,
    K_RESULT,
    K_VARIANT,
    MEM,
    VAL,
    _Arena,
    _check_kind,
    _Lift,
    _Lower,
    _static,
)
from dataflare.abi.val_scalars import _read_name

__all__ = ["_enum", "_flags", "_option", "_result", "_variant"]


def _option(inner: tuple[Any, ...], nested: bool) -> tuple[_Lower, _Lift]:
    from dataflare.abi.val_nodes import compile_spec

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
    from dataflare.abi.val_nodes import compile_spec

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
