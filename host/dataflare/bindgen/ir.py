"""The generator's intermediate representation: WIT as frozen dataclasses.

Names here are still WIT (kebab-case); `naming` turns them into Python.
Type references are `Ty` values; named types point into `Resolve.types`
by index, so the IR is a flat table like the `wasm-tools` JSON it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "PRIMITIVES",
    "AliasDef",
    "Case",
    "EnumDef",
    "Field",
    "FlagsDef",
    "Func",
    "FuncKind",
    "Handle",
    "Interface",
    "ListT",
    "Named",
    "OptionT",
    "Package",
    "Param",
    "Prim",
    "RecordDef",
    "Resolve",
    "ResourceDef",
    "ResultT",
    "TupleT",
    "Ty",
    "TypeDef",
    "TypeKind",
    "VariantDef",
    "World",
]

PRIMITIVES = frozenset(
    ("bool", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64", "f32", "f64", "char", "string")
)


@dataclass(frozen=True, slots=True)
class Prim:
    """A primitive type such as `u32` or `string`."""

    name: str


@dataclass(frozen=True, slots=True)
class ListT:
    """`list<T>`."""

    elem: Ty


@dataclass(frozen=True, slots=True)
class TupleT:
    """`tuple<T...>`."""

    elems: tuple[Ty, ...]


@dataclass(frozen=True, slots=True)
class OptionT:
    """`option<T>`."""

    inner: Ty


@dataclass(frozen=True, slots=True)
class ResultT:
    """`result<T, E>`; a missing side is None."""

    ok: Ty | None
    err: Ty | None


@dataclass(frozen=True, slots=True)
class Handle:
    """`own<R>` or `borrow<R>`; `resource` indexes `Resolve.types`."""

    resource: int
    own: bool


@dataclass(frozen=True, slots=True)
class Named:
    """A reference to the named type `Resolve.types[index]`."""

    index: int


Ty = Prim | ListT | TupleT | OptionT | ResultT | Handle | Named


@dataclass(frozen=True, slots=True)
class Field:
    """A record field."""

    name: str
    ty: Ty
    docs: str


@dataclass(frozen=True, slots=True)
class Case:
    """A variant case (payload may be None), an enum case or a flag."""

    name: str
    ty: Ty | None
    docs: str


@dataclass(frozen=True, slots=True)
class RecordDef:
    """`record`."""

    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class VariantDef:
    """`variant`."""

    cases: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class EnumDef:
    """`enum`."""

    cases: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class FlagsDef:
    """`flags`."""

    flags: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class AliasDef:
    """`type x = T`, and the aliases `use` creates."""

    target: Ty


@dataclass(frozen=True, slots=True)
class ResourceDef:
    """`resource`; its functions live with the owner's functions."""


TypeKind = RecordDef | VariantDef | EnumDef | FlagsDef | AliasDef | ResourceDef


@dataclass(frozen=True, slots=True)
class TypeDef:
    """A named type; `owner` is ("interface", i) or ("world", i)."""

    index: int
    name: str
    kind: TypeKind
    owner: tuple[Literal["interface", "world"], int]
    docs: str


FuncKind = Literal["freestanding", "constructor", "method", "static"]


@dataclass(frozen=True, slots=True)
class Param:
    """A function parameter."""

    name: str
    ty: Ty


@dataclass(frozen=True, slots=True)
class Func:
    """A function; for resource functions `resource` indexes the resource type."""

    name: str
    kind: FuncKind
    resource: int | None
    params: tuple[Param, ...]
    result: Ty | None
    docs: str

    @property
    def short_name(self) -> str:
        """The name without the `[method]res.` style prefix."""
        return self.name.rsplit("]", 1)[-1].split(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Package:
    """`namespace:name@version`; version may be empty."""

    namespace: str
    name: str
    version: str

    @property
    def id(self) -> str:
        """`namespace:name` without the version."""
        return f"{self.namespace}:{self.name}"


@dataclass(frozen=True, slots=True)
class Interface:
    """An interface; an `inline` one (`import x: interface {...}`) is named by its world key."""

    index: int
    name: str
    inline: bool
    package: int | None
    types: tuple[int, ...]
    functions: tuple[Func, ...]
    docs: str


@dataclass(frozen=True, slots=True)
class World:
    """A world: imported/exported interfaces (indexes) and world-level functions."""

    index: int
    name: str
    package: int
    import_interfaces: tuple[int, ...]
    export_interfaces: tuple[int, ...]
    import_functions: tuple[Func, ...]
    export_functions: tuple[Func, ...]
    types: tuple[int, ...]
    docs: str


@dataclass(frozen=True, slots=True)
class Resolve:
    """Everything `wasm-tools component wit --json` reports."""

    packages: tuple[Package, ...]
    interfaces: tuple[Interface, ...]
    worlds: tuple[World, ...]
    types: tuple[TypeDef | None, ...]

    def qualified(self, iface: Interface) -> str:
        """`ns:pkg/iface@version`, the name a component imports or exports."""
        if iface.package is None or iface.inline:
            return iface.name
        pkg = self.packages[iface.package]
        version = f"@{pkg.version}" if pkg.version else ""
        return f"{pkg.id}/{iface.name}{version}"

    def resolve_alias(self, ty: Ty) -> Ty:
        """Follow aliases until the type is no longer a `type x = ...` alias."""
        while isinstance(ty, Named):
            td = self.types[ty.index]
            if td is None or not isinstance(td.kind, AliasDef):
                return ty
            ty = td.kind.target
        return ty
