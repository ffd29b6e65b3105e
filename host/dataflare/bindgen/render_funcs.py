"""Stage 3c: view models for functions: guest callers, host Protocols, linkers.

Each builder returns plain dicts for the macros in `templates/funcs.j2`.
"""

from __future__ import annotations

from typing import Any

from dataflare.bindgen import ir
from dataflare.bindgen.naming import Namespace, snake
from dataflare.bindgen.scope import Scope

__all__ = [
    "exports_class",
    "host_protocol",
    "iface_linker",
    "param_name",
    "resource_class",
    "resource_protocol",
]

# names generated function bodies use; a parameter must not shadow them
_LOCALS = frozenset({"self", "cls", "cx", "raw", "owner", "linker", "host", "rt", "wasmtime"})


def param_name(name: str) -> str:
    """A parameter name that cannot shadow the locals generated code uses."""
    ident = snake(name)
    return ident + "_" if ident in _LOCALS else ident


def _tuple(items: list[str]) -> str:
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


def _doc(docs: str, fallback: str) -> str:
    return docs or fallback


def _guest_method(
    scope: Scope, f: ir.Func, iface: str | None, owner_ann: str | None
) -> dict[str, Any]:
    """A method calling guest export `f`."""
    params = list(f.params)
    names = [param_name(p.name) for p in params]
    codecs = [scope.codec(p.ty) for p in params]
    sig = [f"{n}: {scope.ann(p.ty)}" for p, n in zip(params, names, strict=True)]
    ret_codec = None if f.result is None else scope.codec(f.result)
    view: dict[str, Any] = {
        "name": snake(f.short_name),
        "decorator": None,
        "doc": _doc(f.docs, f"Call the guest's `{f.short_name}`."),
        "ret": scope.ann(f.result),
        "ret_codec": ret_codec,
        "is_constructor": False,
        "cx": "self._cx",
        "typed": False,
        "codecs": _tuple(codecs) if codecs else "()",
        "lends": any(_lends(scope, p.ty) for p in params),
    }
    # resource functions are bound on first use, once per instance (GuestContext.typed)
    view["bind"] = f"{iface!r}, {f.name!r}, {view['codecs']}, {ret_codec}"
    if f.kind == "method":
        names[0] = "self"  # borrowed through the handle codec of its first parameter
        sig[0] = "self"
    elif f.kind == "static":
        view["decorator"] = "@classmethod"
        sig.insert(0, f"cls, owner: {owner_ann}")
        view["cx"] = "owner._cx"
    elif f.kind == "constructor":
        view.update(name="__init__", ret="None", is_constructor=True, cx="owner._cx")
        view["doc"] = _doc(f.docs, "Create the resource in the guest.")
        sig.insert(0, f"self, owner: {owner_ann}")
    else:
        sig.insert(0, "self")
        view["target"] = f"self._{view['name']}"
    view["signature"] = ", ".join(sig)
    view["names"] = ", ".join(names)
    return view


def _lends(scope: Scope, ty: ir.Ty | None) -> bool:
    """Whether lowering `ty` lends a host object: a `borrow` of a host resource."""
    plan = scope.plan
    match ty:
        case ir.Handle(resource, own):
            return not own and plan.is_host_resource(resource)
        case ir.ListT(elem) | ir.OptionT(elem):
            return _lends(scope, elem)
        case ir.TupleT(elems):
            return any(_lends(scope, e) for e in elems)
        case ir.ResultT(ok, err):
            return _lends(scope, ok) or _lends(scope, err)
        case ir.Named(index):
            td = plan.resolve.types[plan.transparent(index)]
            match None if td is None else td.kind:
                case ir.AliasDef(target):
                    return _lends(scope, target)
                case ir.RecordDef(fields):
                    return any(_lends(scope, f.ty) for f in fields)
                case ir.VariantDef(cases):
                    return any(_lends(scope, c.ty) for c in cases)
    return False


def exports_class(
    scope: Scope,
    name: str,
    doc: str,
    funcs: tuple[ir.Func, ...],
    iface: str | None,
    children: list[tuple[str, str]],
    *,
    host_cx: bool = False,
) -> dict[str, Any]:
    """The typed class for an exported interface (or, with `iface=None`, a world).

    With `host_cx` the world class takes the linker's `HostContext`, where
    host resources passed to its exports live.
    """
    free = [f for f in funcs if f.kind == "freestanding"]
    methods = [_guest_method(scope, f, iface, None) for f in free]
    # attributes share the class namespace with the method names
    attrs = Namespace({"_cx", *(m["name"] for m in methods)})
    for m in methods:
        m["target"] = "self." + attrs.claim("_" + m["name"])
        m["typed"] = True  # bound once to its codecs: `typedfunc` moves the values
    child_attrs = [(attrs.claim(attr), cls) for attr, cls in children]
    if iface is None:
        params = ", store: wasmtime.Store, instance: wasmtime.component.Instance"
        lookups = ["cx = self._cx = rt.GuestContext(store, instance, native=native)"]
        if host_cx:
            params += ", host_cx: rt.HostContext | None = None"
            lookups = ["cx = self._cx = rt.GuestContext(store, instance, host_cx, native=native)"]
        params += ", *, native: bool | None = None"
    else:
        params = ", cx: rt.GuestContext"
        lookups = ["self._cx = cx"]
    lookups += [
        f"{m['target']} = rt.typed(cx, cx.func({iface!r}, {f.name!r}), {m['codecs']},"
        f" {m['ret_codec']})"
        for m, f in zip(methods, free, strict=True)
    ]
    warm = [f"cx.func({iface!r}, {f.name!r})" for f in funcs if f.resource is not None]
    if warm:
        lookups += ["# resource functions too, so a missing one fails here, not on first use"]
        lookups += warm
    lookups += [f"self.{attr} = {cls}(cx)" for attr, cls in child_attrs]
    if iface is None and len(lookups) == 1:
        lookups = [lookups[0].replace("cx = self._cx", "self._cx", 1)]
    slots = ["_cx"] + [m["target"][5:] for m in methods] + [a for a, _ in child_attrs]
    return {
        "name": name,
        "bases": "",
        "doc": doc,
        "slots": slots,
        "init_params": params,
        "lookups": lookups,
        "no_constructor": False,
        "methods": methods,
    }


def resource_class(
    scope: Scope, name: str, doc: str, funcs: list[ir.Func], iface: str, owner_ann: str
) -> dict[str, Any]:
    """The wrapper class for a resource the guest exports."""
    methods = [_guest_method(scope, f, iface, owner_ann) for f in funcs]
    return {
        "name": name,
        "bases": "(rt.GuestResource)",
        "doc": doc,
        "slots": [],
        "init_params": None,
        "lookups": [],
        "no_constructor": not any(f.kind == "constructor" for f in funcs),
        "methods": methods,
    }


def _res_name(res_names: dict[int, str], f: ir.Func) -> str:
    # not `f.resource or ...`: a resource may well be type 0
    return "" if f.resource is None else res_names.get(f.resource, "")


def _host_name(f: ir.Func, res_name: str) -> str:
    if f.kind == "constructor":
        return f"new_{res_name}"
    if f.kind == "static":
        return f"{res_name}_{snake(f.short_name)}"
    return snake(f.short_name)


def _host_method(scope: Scope, f: ir.Func, name: str, skip_self: bool) -> dict[str, Any]:
    params = list(f.params)[1:] if skip_self else list(f.params)
    sig = ["self"] + [f"{param_name(p.name)}: {scope.ann(p.ty, host=True)}" for p in params]
    return {
        "name": name,
        "signature": ", ".join(sig),
        "ret": scope.ann(f.result, host=True),
        "doc": _doc(f.docs, f"Serve the guest's call to `{f.name}`."),
    }


def host_protocol(
    scope: Scope, name: str, doc: str, funcs: tuple[ir.Func, ...], res_names: dict[int, str]
) -> dict[str, Any]:
    """The Protocol a host implements for an imported interface or world."""
    methods = [
        _host_method(scope, f, _host_name(f, _res_name(res_names, f)), False)
        for f in funcs
        if f.kind != "method"
    ]
    return {"name": name, "doc": doc, "methods": methods}


def resource_protocol(scope: Scope, name: str, doc: str, funcs: list[ir.Func]) -> dict[str, Any]:
    """The Protocol host objects of an imported resource implement."""
    methods = [_host_method(scope, f, snake(f.short_name), True) for f in funcs]
    return {"name": name, "doc": doc, "methods": methods}


def host_wiring(
    scope: Scope, funcs: tuple[ir.Func, ...], res_names: dict[int, str], target: str
) -> list[str]:
    """`cx.add_func` lines registering each function of `funcs` on `target`."""
    lines = []
    for f in funcs:
        params = _tuple([scope.codec(p.ty) for p in f.params]) if f.params else "()"
        result = "None" if f.result is None else scope.codec(f.result)
        if f.kind == "method":
            impl = f"lambda this, *args: this.{snake(f.short_name)}(*args)"
        else:
            impl = "host." + _host_name(f, _res_name(res_names, f))
        lines.append(f"cx.add_func({target}, {f.name!r}, {impl}, {params}, {result})")
    return lines


def iface_linker(
    scope: Scope,
    qualified: str,
    proto: str,
    funcs: tuple[ir.Func, ...],
    resources: list[int],
    res_names: dict[int, str],
) -> dict[str, Any]:
    """`add_to_linker(linker, host, cx=None)` for an imported interface."""
    body = [
        "cx = cx or rt.HostContext()",
        f"with linker.root() as root, root.add_instance({qualified!r}) as inst:",
    ]
    inner = [
        f"cx.define_resource(inst, {qualified + '#' + scope.plan.resolve.types[r].name!r})"  # type: ignore[union-attr]
        for r in resources
    ]
    inner += host_wiring(scope, funcs, res_names, "inst")
    body += ["    " + line for line in inner] or ["    pass"]
    return {
        "name": "add_to_linker",
        "signature": f"linker: wasmtime.component.Linker, host: {proto}, "
        "cx: rt.HostContext | None = None",
        "doc": f"Define `{qualified}` in `linker`, served by `host`.",
        "ret": "None",
        "body": body,
    }
