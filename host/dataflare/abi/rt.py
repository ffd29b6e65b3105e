"""Runtime support imported by generated bindings (the generator owns this module).

Generated code depends only on this module, `wasmtime` and `dataflare.errors`.
`typed` (in `typedfunc`: an export bound to its codecs, which moves values
straight to and from the C API's value arrays) and `GuestContext.typed`
(the same, bound on first use, for resource functions) are where the host
calls into a guest; they, and resource destructors, translate wasmtime
errors into `GuestTrap` through `traps`, the one translation. Host
functions are linked with `HostContext.add_func`, on the same codec paths.

What wasmtime-py 50 allows, and therefore what bindings can do:

- Guest-exported resources: constructor, methods, static functions, `own`
  and `borrow` parameters, resources inside lists/options/results, and
  `drop()` all work (`GuestResource`).
- Host-implemented (imported or world-level) resources: the guest can
  construct them, call their methods and statics, and hand them back; the
  host object lives in a per-linker `HostContext` table until the guest
  drops the handle. Host objects can also be passed to guest exports and
  come back from them: the world class then takes that `HostContext`
  (`host_cx`, returned by `add_imports_to_linker`); a `borrow` enters the
  table only for the length of its call (`HostContext.lending`).
- Not supported by these bindings: a guest-exported resource passed
  *into* a host import; a host callback has no `GuestContext` to wrap it
  in, so that lift raises `TypeError`.
- `future`, `stream` and `error-context` are not implemented by
  wasmtime-py 50, so the generator rejects them with a `BindgenError`.
- An interface a world both imports and exports may be served by the host
  (an optional argument of `add_imports_to_linker`). Unserved, it still
  needs an instance in the linker (componentize-py imports all its
  functions); its functions are then stubs whose error says how to serve them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from dataflare.abi.codec import (
    BOOL,
    BYTES,
    CHAR,
    F32,
    F64,
    S8,
    S16,
    S32,
    S64,
    STRING,
    U8,
    U16,
    U32,
    U64,
    UNIT,
    UTF8,
    Codec,
    Err,
    Ok,
    Some,
    enum_of,
    flags_of,
    list_of,
    record,
    tuple_of,
)
from dataflare.abi.codec_variants import handle, nested_option, option, result, variant
from dataflare.abi.guest import GuestContext, GuestResource
from dataflare.abi.host import HostContext, define_unavailable
from dataflare.abi.typedfunc import TypedFunc
from dataflare.abi.typedfunc import typed_func as typed

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
    "GuestContext",
    "GuestResource",
    "HostContext",
    "Ok",
    "Result",
    "Some",
    "TypedFunc",
    "WorldSpec",
    "define_unavailable",
    "enum_of",
    "flags_of",
    "handle",
    "list_of",
    "nested_option",
    "option",
    "record",
    "result",
    "tuple_of",
    "typed",
    "variant",
]

T = TypeVar("T")
E = TypeVar("E")

Result = Ok[T] | Err[E]
"""A WIT `result<T, E>` value."""


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """What a world requires of a component: its exports and its own imports.

    `exports` are the world's top-level export names (kebab-case, as in the
    component); `imports` are the versioned interface names the world imports
    from its own package, e.g. ``dataflare:plugin/log@0.1.0``.
    """

    package: str
    name: str
    version: str
    exports: tuple[str, ...]
    imports: tuple[str, ...]
