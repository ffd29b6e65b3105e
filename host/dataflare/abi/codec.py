"""Typed value <-> wasmtime-py value converters, composed once per type.

Generated bindings build one `Codec` per WIT type at import time and call
`lower` before a guest call and `lift` after it. `lower` checks types and
integer ranges, because wasmtime-py silently truncates integers.

wasmtime-py represents a variant-like value (variant, option, result)
*untagged* (the bare payload) when its cases' Python classes are disjoint,
and as `Variant(tag, payload)` otherwise; `classes` mirrors its
`add_classes` so each codec knows which form wasmtime uses.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from wasmtime.component import Record

__all__ = [
    "BOOL",
    "BYTES",
    "CHAR",
    "F32",
    "F64",
    "S8",
    "S16",
    "S32",
    "S64",
    "STRING",
    "U8",
    "U16",
    "U32",
    "U64",
    "UNIT",
    "Codec",
    "Err",
    "Ok",
    "Some",
    "enum_of",
    "flags_of",
    "list_of",
    "record",
    "tuple_of",
]

T = TypeVar("T")
E = TypeVar("E")
EnumT = TypeVar("EnumT", bound=enum.Enum)
FlagT = TypeVar("FlagT", bound=enum.Flag)


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """The success case of a WIT `result`."""

    value: T


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """The error case of a WIT `result`."""

    value: E


@dataclass(frozen=True, slots=True)
class Some(Generic[T]):
    """A present value of an `option<option<T>>` (only used when options nest)."""

    value: T


class Codec(Generic[T]):
    """Converts one WIT type between typed Python values and wasmtime-py values.

    `spec` describes the WIT type for `typedfunc`, which compiles it into a
    direct lowering to the C API's value arrays.
    """

    __slots__ = ("classes", "lift", "lower", "spec")

    def __init__(
        self,
        lower: Callable[[T, Any], Any],
        lift: Callable[[Any, Any], T],
        classes: frozenset[type],
        spec: tuple[Any, ...],
    ) -> None:
        self.lower = lower
        self.lift = lift
        self.classes = classes
        self.spec = spec


def _identity(raw: Any, cx: Any) -> Any:
    return raw


def _int(name: str, lo: int, hi: int) -> Codec[int]:
    def lower(v: int, cx: Any) -> int:
        if type(v) is not int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name} expects int, got {type(v).__name__}")
            v = int(v)
        if not lo <= v <= hi:
            raise OverflowError(f"{v} is out of range for {name} [{lo}, {hi}]")
        return v

    return Codec(lower, _identity, frozenset({int}), ("int", name, lo, hi))


def _float(name: str) -> Codec[float]:
    def lower(v: float, cx: Any) -> float:
        if type(v) is float:
            return v
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise TypeError(f"{name} expects float, got {type(v).__name__}")
        return float(v)

    return Codec(lower, _identity, frozenset({float}), ("float", name))


def _bool(v: bool, cx: Any) -> bool:
    if type(v) is not bool:
        raise TypeError(f"bool expects bool, got {type(v).__name__}")
    return v


def _char(v: str, cx: Any) -> str:
    if type(v) is not str or len(v) != 1:
        raise TypeError(f"char expects a one-character str, got {v!r}")
    if 0xD800 <= ord(v) <= 0xDFFF:
        raise ValueError(f"char cannot be a surrogate code point ({ord(v):#x})")
    return v


def _string(v: str, cx: Any) -> str:
    if type(v) is not str:
        raise TypeError(f"string expects str, got {type(v).__name__}")
    return v


def _bytes(v: bytes, cx: Any) -> bytes:
    if type(v) is bytes:
        return v
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v)
    raise TypeError(f"list<u8> expects bytes, got {type(v).__name__}")


BOOL: Codec[bool] = Codec(_bool, _identity, frozenset({bool}), ("bool",))
S8 = _int("s8", -(2**7), 2**7 - 1)
S16 = _int("s16", -(2**15), 2**15 - 1)
S32 = _int("s32", -(2**31), 2**31 - 1)
S64 = _int("s64", -(2**63), 2**63 - 1)
U8 = _int("u8", 0, 2**8 - 1)
U16 = _int("u16", 0, 2**16 - 1)
U32 = _int("u32", 0, 2**32 - 1)
U64 = _int("u64", 0, 2**64 - 1)
F32 = _float("f32")
F64 = _float("f64")
CHAR: Codec[str] = Codec(_char, _identity, frozenset({str}), ("char",))
STRING: Codec[str] = Codec(_string, _identity, frozenset({str}), ("string",))
BYTES: Codec[bytes] = Codec(_bytes, _identity, frozenset({bytes}), ("bytes",))
UNIT: Codec[None] = Codec(_identity, _identity, frozenset({object}), ("unit",))
"""The missing side of a `result<_, E>`: always None."""


def list_of(elem: Codec[T]) -> Codec[list[T]]:
    """`list<T>` as `list[T]` (use `BYTES` for `list<u8>`)."""
    el_lower, el_lift = elem.lower, elem.lift

    def lower(v: list[T], cx: Any) -> list[Any]:
        if not isinstance(v, list | tuple):
            raise TypeError(f"list expects list, got {type(v).__name__}")
        return [el_lower(x, cx) for x in v]

    def lift(raw: list[Any], cx: Any) -> list[T]:
        return [el_lift(x, cx) for x in raw]

    spec = ("list", elem.spec)
    if el_lift is _identity:
        return Codec(lower, lambda raw, cx: list(raw), frozenset({list}), spec)
    return Codec(lower, lift, frozenset({list}), spec)


def tuple_of(*elems: Codec[Any]) -> Codec[Any]:
    """`tuple<A, B, ...>` as a Python tuple of the same length."""
    n = len(elems)

    def lower(v: tuple[Any, ...], cx: Any) -> tuple[Any, ...]:
        if not isinstance(v, tuple) or len(v) != n:
            raise TypeError(f"expected a tuple of {n} items, got {v!r}")
        return tuple(c.lower(x, cx) for c, x in zip(elems, v, strict=True))

    def lift(raw: tuple[Any, ...], cx: Any) -> tuple[Any, ...]:
        return tuple(c.lift(x, cx) for c, x in zip(elems, raw, strict=True))

    spec = ("tuple", tuple(c.spec for c in elems))
    return Codec(lower, lift, frozenset({tuple}), spec)


def record(cls: type[T], fields: Sequence[tuple[str, str, Codec[Any]]]) -> Codec[T]:
    """A WIT record as dataclass `cls`; `fields` are (python, wit, codec) in order."""
    plan = tuple(fields)

    def lower(v: T, cx: Any) -> Record:
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__name__}, got {type(v).__name__}")
        out = Record()
        out.__dict__.update({wit: c.lower(getattr(v, py), cx) for py, wit, c in plan})
        return out

    def lift(raw: Record, cx: Any) -> T:
        attrs = raw.__dict__
        return cls(*[c.lift(attrs[wit], cx) for _, wit, c in plan])

    spec = ("record", cls, tuple((py, wit, c.spec) for py, wit, c in plan))
    return Codec(lower, lift, frozenset({Record}), spec)


def enum_of(cls: type[EnumT]) -> Codec[EnumT]:
    """A WIT enum as `cls`, whose member values are the WIT case names."""
    by_name = {m.value: m for m in cls}

    def lower(v: EnumT, cx: Any) -> str:
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__name__}, got {v!r}")
        return str(v.value)

    def lift(raw: str, cx: Any) -> EnumT:
        return by_name[raw]

    return Codec(lower, lift, frozenset({str}), ("enum", cls))


def flags_of(cls: type[FlagT], names: Sequence[str]) -> Codec[FlagT]:
    """WIT flags as `cls`; `names[i]` is the WIT name of bit `1 << i`."""
    bits = {name: 1 << i for i, name in enumerate(names)}

    def lower(v: FlagT, cx: Any) -> set[str]:
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__name__}, got {v!r}")
        value = v.value
        return {name for name, bit in bits.items() if value & bit}

    def lift(raw: set[str], cx: Any) -> FlagT:
        return cls(sum(bits[name] for name in raw))

    return Codec(lower, lift, frozenset({set}), ("flags", cls, tuple(names)))
