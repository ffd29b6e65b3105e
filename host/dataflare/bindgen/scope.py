"""Stage 3a: one module's view of WIT types as Python annotations and codecs.

A `Scope` renders a `Ty` as a type annotation and as a codec expression,
records which names must be imported from sibling modules, and hoists every
composite codec into a module-level constant so it is built once at import.
"""

from __future__ import annotations

from dataflare.bindgen import ir
from dataflare.bindgen.naming import snake
from dataflare.bindgen.plan import Plan

__all__ = ["Scope"]

_PRIM_ANN = {
    "bool": "bool",
    "char": "str",
    "string": "str",
    "f32": "float",
    "f64": "float",
}


class Scope:
    """Annotations, codecs and imports for the module `module`."""

    def __init__(self, plan: Plan, module: str) -> None:
        self.plan = plan
        self.module = module
        self.ns = plan.namespaces[module]
        # sibling module -> {remote name: local name}
        self.imports: dict[str, dict[str, str]] = {}
        # codec expression -> constant name, in definition order
        self.hoisted: dict[str, str] = {}
        self._hoist_names: dict[str, str] = {}

    def ref(self, module: str, name: str) -> str:
        """The local name for `name` from sibling `module`, importing it if needed."""
        if module == self.module:
            return name
        names = self.imports.setdefault(module, {})
        if name not in names:
            local = name if name not in self.ns else f"_{module}_{name.lstrip('_')}"
            names[name] = self.ns.claim(local)
        return names[name]

    def ann(self, ty: ir.Ty | None, *, host: bool = False) -> str:
        """The annotation for `ty`; `host` picks host Protocols for resources."""
        match ty:
            case None:
                return "None"
            case ir.Prim(name):
                return _PRIM_ANN.get(name, "int")
            case ir.ListT(ir.Prim("u8")):
                return "bytes"
            case ir.ListT(elem):
                return f"list[{self.ann(elem, host=host)}]"
            case ir.TupleT(elems):
                inner = ", ".join(self.ann(e, host=host) for e in elems) or "()"
                return f"tuple[{inner}]"
            case ir.OptionT(inner):
                if self._is_option(inner):
                    return f"rt.Some[{self.ann(inner, host=host)}] | None"
                return f"{self.ann(inner, host=host)} | None"
            case ir.ResultT(ok, err):
                return f"rt.Ok[{self.ann(ok, host=host)}] | rt.Err[{self.ann(err, host=host)}]"
            case ir.Handle(resource, _):
                return self._resource_ann(resource, host)
            case ir.Named(index):
                sym = self.plan.symbol(index)
                td = self.plan.resolve.types[self.plan.transparent(index)]
                if td is not None and isinstance(td.kind, ir.ResourceDef):
                    return self._resource_ann(td.index, host)
                return self.ref(sym.module, sym.name)
        raise AssertionError(ty)

    def _resource_ann(self, resource: int, host: bool) -> str:
        resource = self.plan.transparent(resource)
        sym = self.plan.symbol(resource)
        table = self.plan.host_proto if host else self.plan.guest_class
        other = self.plan.guest_class if host else self.plan.host_proto
        name = table.get(resource) or other[resource]
        return self.ref(sym.module, name)

    def _is_option(self, ty: ir.Ty) -> bool:
        while isinstance(ty, ir.Named):
            td = self.plan.resolve.types[ty.index]
            if td is None or not isinstance(td.kind, ir.AliasDef):
                return False
            ty = td.kind.target
        return isinstance(ty, ir.OptionT)

    def codec(self, ty: ir.Ty) -> str:
        """A codec expression for `ty`: `rt.U32`, a named codec, or a hoisted constant."""
        match ty:
            case ir.Prim(name):
                return f"rt.{name.upper()}"
            case ir.ListT(ir.Prim("u8")):
                return "rt.BYTES"
            case ir.Named(index):
                index = self.plan.transparent(index)
                td = self.plan.resolve.types[index]
                if td is not None and isinstance(td.kind, ir.ResourceDef):
                    return self.codec(ir.Handle(index, own=True))
                sym = self.plan.symbol(index)
                return self.ref(sym.module, sym.codec)
            case ir.Handle(resource, own):
                resource = self.plan.transparent(resource)
                sym = self.plan.symbol(resource)
                return self.ref(sym.module, self.plan.handle_codec[(resource, own)])
        return self._hoist(ty)

    def _hoist(self, ty: ir.Ty) -> str:
        match ty:
            case ir.ListT(elem):
                expr = f"rt.list_of({self.codec(elem)})"
            case ir.TupleT(elems):
                expr = f"rt.tuple_of({', '.join(self.codec(e) for e in elems)})"
            case ir.OptionT(inner):
                fn = "nested_option" if self._is_option(inner) else "option"
                expr = f"rt.{fn}({self.codec(inner)})"
            case ir.ResultT(ok, err):
                ok_c = "None" if ok is None else self.codec(ok)
                err_c = "None" if err is None else self.codec(err)
                expr = f"rt.result({ok_c}, {err_c})"
            case _:
                raise AssertionError(ty)
        if expr not in self.hoisted:
            self.hoisted[expr] = self.ns.claim(f"_{self._slug(ty)}_codec")
            self._hoist_names[self.hoisted[expr]] = self.ann(ty)
        return self.hoisted[expr]

    def hoisted_annotation(self, name: str) -> str:
        """The value type of hoisted codec constant `name`."""
        return self._hoist_names[name]

    def _slug(self, ty: ir.Ty | None) -> str:
        match ty:
            case None:
                return "none"
            case ir.Prim(name):
                return name
            case ir.ListT(ir.Prim("u8")):
                return "bytes"
            case ir.ListT(elem):
                return f"list_{self._slug(elem)}"
            case ir.TupleT(elems):
                return "tuple_" + "_".join(self._slug(e) for e in elems)
            case ir.OptionT(inner):
                return f"option_{self._slug(inner)}"
            case ir.ResultT(ok, err):
                return f"result_{self._slug(ok)}_{self._slug(err)}"
            case ir.Handle(resource, own):
                td = self.plan.resolve.types[resource]
                return ("own_" if own else "borrow_") + snake(td.name if td else "resource")
            case ir.Named(index):
                td = self.plan.resolve.types[self.plan.transparent(index)]
                return snake(td.name if td else "type").rstrip("_")
        raise AssertionError(ty)
