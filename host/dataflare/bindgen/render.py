"""Stage 3: render every planned module (interfaces, worlds, package `__init__`)."""

from __future__ import annotations

from collections.abc import Sequence

from dataflare.bindgen import ir
from dataflare.bindgen import render_funcs as rf
from dataflare.bindgen.builder import ModuleBuilder, render_package
from dataflare.bindgen.naming import Namespace, pascal, snake
from dataflare.bindgen.plan import Plan

__all__ = ["render_plan"]


def render_plan(plan: Plan) -> dict[str, str]:
    """Module name -> unformatted source, for every module of `plan`."""
    out: dict[str, str] = {}
    for iface in plan.interfaces:
        out[plan.iface_module[iface.index]] = _interface_module(plan, iface)
    for world in plan.worlds:
        out[plan.world_module[world.index]] = _world_module(plan, world)
    names = [f"- `{plan.resolve.packages[w.package].id}/{w.name}`" for w in plan.worlds]
    doc = "Typed Python bindings for WIT " + (
        "worlds:\n\n" + "\n".join(names) if names else "interfaces."
    )
    out["__init__"] = render_package(doc, list(out))
    return out


def _resources(plan: Plan, types: Sequence[int]) -> list[int]:
    """The resources among `types` (an interface's or a world's own types)."""
    return [
        t
        for t in types
        if plan.transparent(t) == t
        and isinstance(getattr(plan.resolve.types[t], "kind", None), ir.ResourceDef)
    ]


def _res_names(plan: Plan, funcs: tuple[ir.Func, ...]) -> dict[int, str]:
    names: dict[int, str] = {}
    for f in funcs:
        td = None if f.resource is None else plan.resolve.types[f.resource]
        if td is not None:
            names[td.index] = snake(td.name)
    return names


def _interface_module(plan: Plan, iface: ir.Interface) -> str:
    qualified = plan.resolve.qualified(iface)
    summary = f"Bindings for WIT interface `{qualified}`."
    b = ModuleBuilder(plan, plan.iface_module[iface.index], _join(iface.docs, summary))
    b.types(iface.types, qualified)
    doc = iface.docs or f"The guest's exports of `{qualified}`."
    cls = plan.exports_class.get(iface.index)
    if cls is not None:
        view = rf.exports_class(b.scope, cls, doc, iface.functions, qualified, [])
        b.block("funcs.j2", "exports_class", view, cls)
    proto = plan.host_class.get(iface.index)
    if proto is not None:
        b.stdlib.add("typing")
        b.needs_wasmtime = True
        res_names = _res_names(plan, iface.functions)
        doc = _join(iface.docs, f"What the host implements to serve `{qualified}`.")
        view = rf.host_protocol(b.scope, proto, doc, iface.functions, res_names)
        b.block("funcs.j2", "protocol", view, proto)
        linker = rf.iface_linker(
            b.scope, qualified, proto, iface.functions, _resources(plan, iface.types), res_names
        )
        b.block("funcs.j2", "linker", linker, "add_to_linker")
    return b.source()


def _join(docs: str, summary: str) -> str:
    return f"{docs}\n\n{summary}" if docs else summary


def _world_module(plan: Plan, world: ir.World) -> str:
    resolve = plan.resolve
    pkg = resolve.packages[world.package]
    module = plan.world_module[world.index]
    summary = f"Bindings for WIT world `{pkg.id}/{world.name}`."
    b = ModuleBuilder(plan, module, _join(world.docs, summary))
    world_key = f"{pkg.id}/{world.name}"
    b.types(world.types, world_key)
    b.needs_wasmtime = True
    ns = b.scope.ns
    cls = ns.claim(pascal(world.name))
    children = []
    for i in world.export_interfaces:
        exports_cls = plan.exports_class.get(i)
        if exports_cls is not None:
            ref = b.scope.ref(plan.iface_module[i], exports_cls)
            children.append((snake(resolve.interfaces[i].name), ref))
    b.block("funcs.j2", "text", {"text": _world_spec(plan, world)}, "WORLD")
    doc = world.docs or f"A component instance targeting world `{world.name}`."
    host_cx = plan.exports_host_resources(world)
    view = rf.exports_class(
        b.scope, cls, doc, world.export_functions, None, children, host_cx=host_cx
    )
    b.block("funcs.j2", "exports_class", view, cls)

    params = Namespace({"linker", "cx", "native"})
    sig = ["linker: wasmtime.component.Linker"]
    body = ["cx = rt.HostContext(native=native)"]
    for i in world.import_interfaces:
        iface = resolve.interfaces[i]
        proto = plan.host_class.get(i)
        if plan.is_wasi(iface):
            continue
        if proto is None:
            body += _type_only_instance(plan, iface, None)
            continue
        mod = plan.iface_module[i]
        arg = params.claim(snake(iface.name))
        add = f"{b.scope.ref(mod, 'add_to_linker')}(linker, {arg}, cx)"
        if i in world.export_interfaces:
            # The guest may never call its own import (componentize-py imports
            # every exported interface), so serving it is optional.
            sig.append(f"{arg}: {b.scope.ref(mod, proto)} | None = None")
            body.append(f"if {arg} is None:")
            body += ["    " + line for line in _type_only_instance(plan, iface, arg)]
            body += ["else:", f"    {add}"]
        else:
            sig.append(f"{arg}: {b.scope.ref(mod, proto)}")
            body.append(add)
    world_resources = _resources(plan, world.types)
    if world.import_functions or world_resources:
        b.stdlib.add("typing")
        host_cls = ns.claim(pascal(world.name) + "Host")
        host_doc = f"What the host implements for the functions world `{world.name}` imports."
        res_names = _res_names(plan, world.import_functions)
        view = rf.host_protocol(b.scope, host_cls, host_doc, world.import_functions, res_names)
        b.block("funcs.j2", "protocol", view, host_cls)
        host = params.claim("host")
        sig.append(f"{host}: {host_cls}")
        body.append("with linker.root() as root:")
        body += [
            f"    cx.define_resource(root, {world_key + '#' + resolve.types[r].name!r})"  # type: ignore[union-attr]
            for r in world_resources
        ]
        wiring = rf.host_wiring(b.scope, world.import_functions, res_names, "root")
        body += ["    " + line.replace("host.", f"{host}.", 1) for line in wiring]
    if host_cx:
        body.append("return cx")
    elif not any("cx" in line for line in body[1:]):
        body = body[1:] or ["del linker  # the world imports nothing but WASI"]
    if body[0].startswith("cx = "):  # host functions or resources: their codec path
        sig.append("native: bool | None = None")
    if len(sig) > 1:
        sig.insert(1, "*")
    doc = f"Define everything world `{world.name}` imports, except WASI, in `linker`."
    if host_cx:
        doc += "\n\nReturns the `HostContext` the world class takes as `host_cx`."
    linker = {
        "name": "add_imports_to_linker",
        "signature": ", ".join(sig),
        "doc": doc,
        "ret": "rt.HostContext" if host_cx else "None",
        "body": body,
    }
    b.block("funcs.j2", "linker", linker, "add_imports_to_linker")
    return b.source()


def _type_only_instance(plan: Plan, iface: ir.Interface, arg: str | None) -> list[str]:
    # An import the host does not serve still needs an instance in the linker,
    # and its resource types need (never used) host definitions.
    qualified = plan.resolve.qualified(iface)
    lines = [f"with linker.root() as root, root.add_instance({qualified!r}) as inst:"]
    for r in _resources(plan, iface.types):
        key = f"{qualified}#{plan.resolve.types[r].name}"  # type: ignore[union-attr]
        lines.append(f"    cx.define_resource(inst, {key!r})")
    # componentize-py imports every function of such an interface; a guest
    # that calls one gets an error saying how to serve it, not a link failure.
    names = tuple(f.name for f in iface.functions)
    if names:
        hint = f"pass `{arg}=` to add_imports_to_linker" if arg else "the world serves no host"
        lines.append(f"    rt.define_unavailable(inst, {qualified!r}, {names!r}, {hint!r})")
    if len(lines) == 1:
        return [lines[0].replace(" as inst:", ":"), "    pass"]
    return lines


def _world_spec(plan: Plan, world: ir.World) -> str:
    resolve = plan.resolve
    pkg = resolve.packages[world.package]
    exports = sorted(
        [f.name for f in world.export_functions]
        + [resolve.qualified(resolve.interfaces[i]) for i in world.export_interfaces]
    )
    imports = sorted(
        resolve.qualified(resolve.interfaces[i])
        for i in world.import_interfaces
        if resolve.interfaces[i].package == world.package
    )
    return (
        "WORLD = rt.WorldSpec(\n"
        f"    package={pkg.id!r},\n"
        f"    name={world.name!r},\n"
        f"    version={pkg.version!r},\n"
        f"    exports={tuple(exports)!r},\n"
        f"    imports={tuple(imports)!r},\n"
        ")\n"
        f'"""What a component targeting `{pkg.id}/{world.name}` exports and imports."""'
    )
