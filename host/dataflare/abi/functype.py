"""The one-time check, at bind time, that a component function has the bindings' WIT type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wasmtime import component as wt
from wasmtime.component import Func

from dataflare.abi.codec import Codec
from dataflare.errors import WorldMismatchError

__all__ = ["check_func_type"]


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
    if tag == "resource":
        return isinstance(ty, wt.OwnType if spec[3] else wt.BorrowType)
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
_SIMPLE = {"bool": wt.Bool, "char": wt.Char, "string": wt.String, "utf8": wt.String}


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
