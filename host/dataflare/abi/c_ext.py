"""The optional C accelerator for fast calls: `_fastc` nodes built from codec specs.

`_fastc` (built by setup.py when a C compiler is there; `AVAILABLE` says
whether it was) does in C what `val_nodes` does in Python: the same val_t
trees, checks, exception types and messages. The value layout it was
compiled with (`_fastc.LAYOUT`) is checked against wasmtime-py's at import. `node(spec)` compiles a
codec spec once into a `_fastc.Node` via a *plan*, the spec with what C
needs resolved in Python: the slot descriptors of classes it may fill
directly, and the `val_nodes` closures for the kinds left to Python (char,
enum, flags, unit). `caller` binds an export for the whole call in C.
"""

from __future__ import annotations

import ctypes
import dataclasses
import inspect
import types
from collections.abc import Callable, Sequence
from typing import Any

from dataflare.abi._wasmtime_private import check_layout, func_call, val_delete
from dataflare.abi.codec import Err, Ok, Some
from dataflare.abi.val_nodes import SpecMemo, compile_spec

try:
    from dataflare.abi import _fastc
except ImportError:  # built without a C compiler: the Python fast path only
    _fastc = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "caller", "choose", "node", "plan", "slots", "utf8_error"]

AVAILABLE = _fastc is not None


def utf8_error(data: Any) -> int:
    """The offset where strict UTF-8 first fails in bytes-like `data`, or -1.

    In C (no `str` made, the GIL released) when the extension is built.
    """
    if _fastc is not None:
        return _fastc.utf8_error(data)
    from dataflare.abi.val_scalars import utf8_error as reference

    return reference(data)


def choose(native: bool | None) -> bool:
    """Whether a `native` argument means the C path: None is C when built.

    True without the extension raises `RuntimeError`: a caller that asks for
    C must not silently get Python.
    """
    if native is None:
        return AVAILABLE
    if native and not AVAILABLE:
        raise RuntimeError("native=True, but the _fastc C extension is not built")
    return native


_C_KINDS = {"int", "float", "bool", "string", "utf8", "bytes"}


def slots(cls: type, names: Sequence[str]) -> tuple[Any, ...] | None:
    """The slot descriptors of `names` when `cls(*values)` only stores values in them.

    True of a slotted dataclass with exactly these init fields, its generated
    `__init__`, `object.__new__` and no `__post_init__`: C then fills the
    slots of a fresh instance instead of calling the class (a frozen
    dataclass's `__init__` costs one `object.__setattr__` per field). Any
    other class (None) is called.
    """
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return None
    if cls.__new__ is not object.__new__:
        return None
    fields = dataclasses.fields(cls)
    if tuple(f.name for f in fields) != tuple(names) or not all(f.init for f in fields):
        return None
    init = cls.__dict__.get("__init__")
    # dataclass-generated: compiled from source text, so its file is "<string>"
    if not isinstance(init, types.FunctionType) or init.__code__.co_filename != "<string>":
        return None
    params = list(inspect.signature(init).parameters)[1:]
    if params != list(names):
        return None
    descrs = tuple(cls.__dict__.get(n) for n in names)
    if not all(isinstance(d, types.MemberDescriptorType) for d in descrs):
        return None
    return descrs


def plan(spec: tuple[Any, ...]) -> tuple[Any, ...]:
    """The `_fastc.Node` plan for a codec spec (see `fc_build` in _fastc_plan.c)."""
    tag = spec[0]
    if tag in _C_KINDS:
        return spec
    if tag == "list":
        return ("list", plan(spec[1]))
    if tag == "tuple":
        return ("tuple", tuple(plan(e) for e in spec[1]))
    if tag == "record":
        cls, fields = spec[1], spec[2]
        planned = tuple((py, wit, plan(s)) for py, wit, s in fields)
        return ("record", cls, planned, slots(cls, [py for py, _, _ in fields]))
    if tag in ("option", "nested_option"):
        return ("option", plan(spec[1]), tag == "nested_option")
    if tag == "result":
        return ("result", _payload(spec[1]), _payload(spec[2]))
    if tag == "variant":
        cases = tuple(
            (name, cls, _payload(s), slots(cls, () if s is None else ("value",)))
            for name, cls, s in spec[1]
        )
        return ("variant", cases, ", ".join(cls.__name__ for _, cls, _ in spec[1]))
    lower, lift = compile_spec(spec)  # char, enum, flags, unit; raises on unknown tags
    return ("py", lower, lift)


def _payload(spec: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    return None if spec is None else plan(spec)


_nodes: SpecMemo[Any] = SpecMemo()


def node(spec: tuple[Any, ...]) -> Any:
    """The `_fastc.Node` for a codec spec, compiled once per spec object."""
    return _nodes.get(spec, _node)


def _node(spec: tuple[Any, ...]) -> Any:
    if _fastc is None:
        raise RuntimeError("the _fastc extension is not built")
    return _fastc.Node(plan(spec))


def caller(
    func_addr: int,
    owner: Any,
    params: Sequence[tuple[Any, ...]],
    result: tuple[Any, ...] | None,
    result_addr: int,
    on_error: Callable[[int], Any],
) -> Any:
    """A `_fastc.Caller`: `c(ctx_addr, args, arena)` lowers, calls and lifts in C.

    `owner` must keep `func_addr` and `result_addr` valid; `on_error(err)`
    must raise for a `wasmtime_error_t *` the call returned.
    """
    if _fastc is None:
        raise RuntimeError("the _fastc extension is not built")
    return _fastc.Caller(
        func=func_addr,
        params=tuple(node(s) for s in params),
        result=None if result is None else node(result),
        result_addr=result_addr,
        on_error=on_error,
        owner=owner,
    )


if _fastc is not None:
    check_layout(_fastc.LAYOUT)
    _fastc.setup(
        ctypes.cast(func_call, ctypes.c_void_p).value,
        ctypes.cast(val_delete, ctypes.c_void_p).value,
        Ok,
        Err,
        Some,
        slots(Ok, ("value",)),
        slots(Err, ("value",)),
        slots(Some, ("value",)),
    )
