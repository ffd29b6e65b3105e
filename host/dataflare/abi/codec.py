"""Codecs: the WIT type of each value generated bindings pass, as a `spec` both paths compile.

Generated bindings build one `Codec` per WIT type at import time; the
result and option wrappers (`Ok`, `Err`, `Some`) live here too. A codec does
no conversion itself: `TypedFunc` (guest exports) and `HostContext.add_func`
(host functions) compile its `spec` once into value-array nodes, in C
(`c_ext`) or in Python (`val_nodes`), which check values (types and integer
ranges) and move them.

Spec tags: ("int", name, lo, hi), ("float", name), ("bool",), ("char",),
("string",), ("utf8",), ("bytes",), ("unit",), ("list", elem), ("tuple", elems),
("record", cls, ((py, wit, spec), ...)), ("option", inner),
("nested_option", inner), ("result", ok | None, err | None),
("variant", ((wit, cls, spec | None), ...)), ("enum", cls),
("flags", cls, names), ("resource", key, cls | None, own).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
    "UTF8",
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
    """One WIT type whose values are the Python type `T`: its `spec` (see the module doc)."""

    __slots__ = ("spec",)

    def __init__(self, spec: tuple[Any, ...]) -> None:
        self.spec = spec

    def __repr__(self) -> str:
        return f"Codec({self.spec!r})"


def _int(name: str, lo: int, hi: int) -> Codec[int]:
    return Codec(("int", name, lo, hi))


BOOL: Codec[bool] = Codec(("bool",))
S8 = _int("s8", -(2**7), 2**7 - 1)
S16 = _int("s16", -(2**15), 2**15 - 1)
S32 = _int("s32", -(2**31), 2**31 - 1)
S64 = _int("s64", -(2**63), 2**63 - 1)
U8 = _int("u8", 0, 2**8 - 1)
U16 = _int("u16", 0, 2**16 - 1)
U32 = _int("u32", 0, 2**32 - 1)
U64 = _int("u64", 0, 2**64 - 1)
F32: Codec[float] = Codec(("float", "f32"))
F64: Codec[float] = Codec(("float", "f64"))
CHAR: Codec[str] = Codec(("char",))
STRING: Codec[str] = Codec(("string",))
BYTES: Codec[bytes] = Codec(("bytes",))
UTF8: Codec[bytes] = Codec(("utf8",))
"""A WIT `string` held as its UTF-8 bytes on the host: lowered from bytes, a bytearray or
a contiguous memoryview, lifted as bytes. Neither decoding nor encoding a Python `str`:
for a batch's text, those two passes cost more than the call (non-ASCII text encodes at
about 150 MB/s). The caller promises the bytes are UTF-8; wasmtime checks them too."""
UNIT: Codec[None] = Codec(("unit",))
"""The missing side of a `result<_, E>`: always None."""


def list_of(elem: Codec[T]) -> Codec[list[T]]:
    """`list<T>` as `list[T]` (use `BYTES` for `list<u8>`)."""
    return Codec(("list", elem.spec))


def tuple_of(*elems: Codec[Any]) -> Codec[Any]:
    """`tuple<A, B, ...>` as a Python tuple of the same length."""
    return Codec(("tuple", tuple(c.spec for c in elems)))


def record(cls: type[T], fields: Sequence[tuple[str, str, Codec[Any]]]) -> Codec[T]:
    """A WIT record as dataclass `cls`; `fields` are (python, wit, codec) in order."""
    return Codec(("record", cls, tuple((py, wit, c.spec) for py, wit, c in fields)))


def enum_of(cls: type[EnumT]) -> Codec[EnumT]:
    """A WIT enum as `cls`, whose member values are the WIT case names."""
    return Codec(("enum", cls))


def flags_of(cls: type[FlagT], names: Sequence[str]) -> Codec[FlagT]:
    """WIT flags as `cls`; `names[i]` is the WIT name of bit `1 << i`."""
    return Codec(("flags", cls, tuple(names)))
