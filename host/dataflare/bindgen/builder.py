"""Stage 3b: build one module's source from Jinja templates (types, codecs, assembly)."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import jinja2

from dataflare.bindgen import ir
from dataflare.bindgen import render_funcs as rf
from dataflare.bindgen.naming import Namespace, constant, pascal, snake
from dataflare.bindgen.plan import Plan, named_in
from dataflare.bindgen.scope import Scope

__all__ = ["ModuleBuilder", "docstring", "render_package"]


def docstring(text: str, indent: int) -> str:
    """`text` as a triple-quoted literal whose continuation lines sit at `indent`."""
    body = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    width = 100 - indent - 6
    lines = [
        wrapped
        for line in body.splitlines() or [""]
        for wrapped in (textwrap.wrap(line, width, subsequent_indent=_lead(line)) or [""])
    ]
    if lines[-1].endswith('"'):
        lines[-1] += " "  # a closing quote next to the delimiter would end it early
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    pad = " " * indent
    rest = "\n".join(pad + line if line.strip() else "" for line in lines[1:])
    return f'"""{lines[0]}\n{rest}\n{pad}"""'


def _lead(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("dataflare.bindgen", "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,
)
_ENV.filters["docstring"] = docstring
_ENV.filters["natural"] = lambda names: sorted(names, key=natural)


def render_package(doc: str, submodules: list[str]) -> str:
    """The bindings package's `__init__`: imports and lists every module."""
    return _ENV.get_template("module.py.j2").render(
        doc=doc,
        stdlib=[],
        needs_wasmtime=False,
        needs_rt=False,
        submodules=sorted(submodules),
        imports=[],
        exports=sorted(submodules),
        blocks=[],
    )


def _macro(template: str, name: str, arg: dict[str, Any]) -> str:
    return str(getattr(_ENV.get_template(template).module, name)(arg)).strip("\n")


def natural(name: str) -> list[Any]:
    """Natural sort key (`u8` before `u16`), the order ruff's RUF022/RUF023 want."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _all_key(name: str) -> tuple[int, list[Any]]:
    # RUF022's isort-style order: CONSTANTS, then Classes, then everything else
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, natural(name)


def _in_dependency_order(items: list[tuple[int, list[str], set[int]]]) -> list[str]:
    """The blocks of `items` (key, blocks, deps) in their order, each after its deps."""
    keys = {key for key, _, _ in items}
    pending = [(key, blocks, deps & keys) for key, blocks, deps in items]
    done: set[int] = set()
    out: list[str] = []
    while pending:
        ready = next((n for n, (_, _, deps) in enumerate(pending) if deps <= done), None)
        if ready is None:
            raise AssertionError(f"cyclic type definitions: {[k for k, _, _ in pending]}")
        key, blocks, _ = pending.pop(ready)
        done.add(key)
        out.extend(blocks)
    return out


class ModuleBuilder:
    """Collects the blocks, codec constants and exported names of one module."""

    def __init__(self, plan: Plan, module: str, doc: str) -> None:
        self.plan = plan
        self.scope = Scope(plan, module)
        self.doc = doc
        self.blocks: list[str] = []
        self.tail: list[str] = []
        self.codecs: list[str] = []
        self.exports: list[str] = []
        self.stdlib: set[str] = set()
        self.needs_wasmtime = False
        self._emitted: set[str] = set()
        self._deferred: list[tuple[ir.TypeDef, str, str]] = []

    def block(self, template: str, macro: str, view: dict[str, Any], *names: str) -> None:
        """Render `macro` of `template` as the next block; `names` join `__all__`."""
        self.blocks.append(_macro(template, macro, view))
        self.exports.extend(names)

    def codec(self, name: str | None, ann: str = "", expr: str = "") -> None:
        """Emit codec constant `name` after the hoisted codecs it depends on."""
        for hoisted, hname in self.scope.hoisted.items():
            if hname not in self._emitted:
                self._emitted.add(hname)
                hann = self.scope.hoisted_annotation(hname)
                self.codecs.append(f"{hname}: rt.Codec[{hann}] = {hoisted}")
        if name is not None:
            self._emitted.add(name)
            self.codecs.append(f"{name}: rt.Codec[{ann}] = {expr}")

    def types(self, indexes: tuple[int, ...], owner_key: str | None) -> None:
        """Definitions and codecs of named types, then the resource classes.

        `owner_key` names the interface (or world) that owns the resources,
        as in their handle keys. Blocks come out in WIT order, resource
        classes last, except that a block is held back until the types its
        run-time expression names (an alias such as `tuple[Thing, int]`)
        are defined. Resource handle codecs come first, so any order of
        `indexes` gives a module that imports.
        """
        items: list[tuple[int, list[str], set[int]]] = []
        defs = [
            td
            for t in indexes
            if (td := self.plan.resolve.types[t]) is not None and self.plan.transparent(t) == t
        ]
        # resources first: their handle codecs depend on nothing, others' may on them
        defs.sort(key=lambda td: not isinstance(td.kind, ir.ResourceDef))
        for td in defs:
            t = td.index
            mark = len(self.blocks)
            self._typedef(td, owner_key)
            if not isinstance(td.kind, ir.ResourceDef):  # its classes come below
                items.append((t, self.blocks[mark:], self._runtime_deps(td)))
            del self.blocks[mark:]
        # resource methods may use types defined after the resource
        for td, doc, key in self._deferred:
            mark = len(self.blocks)
            self._resource_classes(td, doc, key)
            items.append((td.index, self.blocks[mark:], set()))
            del self.blocks[mark:]
        self._deferred.clear()
        self.blocks.extend(_in_dependency_order(items))

    def _runtime_deps(self, td: ir.TypeDef) -> set[int]:
        # Only an alias's right-hand side is evaluated at import; annotations
        # elsewhere are lazy (`from __future__ import annotations`).
        if not isinstance(td.kind, ir.AliasDef):
            return set()
        return {self.plan.transparent(i) for i in named_in(td.kind.target)}

    def _typedef(self, td: ir.TypeDef, owner_key: str | None) -> None:
        sym = self.plan.symbols[td.index]
        doc = td.docs or f"WIT {type(td.kind).__name__[:-3].lower()} `{td.name}`."
        sc = self.scope
        match td.kind:
            case ir.RecordDef(fields):
                self.stdlib.add("dataclasses")
                ns = Namespace()
                fviews = [
                    {"name": ns.claim(snake(f.name)), "ann": sc.ann(f.ty), "doc": f.docs}
                    for f in fields
                ]
                self.block("types.j2", "record", {"name": sym.name, "doc": doc, "fields": fviews})
                self.exports.append(sym.name)
                plan = ", ".join(
                    f"({v['name']!r}, {f.name!r}, {sc.codec(f.ty)})"
                    for v, f in zip(fviews, fields, strict=True)
                )
                self.codec(sym.codec, sym.name, f"rt.record({sym.name}, ({plan},))")
            case ir.VariantDef(cases):
                self.stdlib.update({"dataclasses", "typing"})
                ns = self.scope.ns
                views: list[dict[str, Any]] = [
                    {
                        "name": ns.claim(pascal(f"{td.name}-{c.name}")),
                        "ann": None if c.ty is None else sc.ann(c.ty),
                        "doc": c.docs or f"Case `{c.name}` of `{td.name}`.",
                    }
                    for c in cases
                ]
                self.block("types.j2", "variant", {"name": sym.name, "doc": doc, "cases": views})
                self.exports.extend([sym.name] + [v["name"] for v in views])
                items = ", ".join(
                    f"({c.name!r}, {v['name']}, {'None' if c.ty is None else sc.codec(c.ty)})"
                    for c, v in zip(cases, views, strict=True)
                )
                self.codec(sym.codec, sym.name, f"rt.variant(({items},))")
            case ir.EnumDef(cases) | ir.FlagsDef(cases):
                self.stdlib.add("enum")
                is_flags = isinstance(td.kind, ir.FlagsDef)
                ns = Namespace()
                members = [
                    {
                        "name": ns.claim(constant(c.name)),
                        "value": str(1 << i) if is_flags else repr(c.name),
                        "doc": c.docs,
                    }
                    for i, c in enumerate(cases)
                ]
                view = {"name": sym.name, "doc": doc, "cases": members}
                text = _macro("types.j2", "enum", view)
                if is_flags:
                    text = text.replace("(enum.Enum):", "(enum.Flag):", 1)
                    if not members:
                        text += "\n    pass"
                self.blocks.append(text)
                self.exports.append(sym.name)
                names = tuple(c.name for c in cases)
                expr = (
                    f"rt.flags_of({sym.name}, {names!r})"
                    if is_flags
                    else (f"rt.enum_of({sym.name})")
                )
                self.codec(sym.codec, sym.name, expr)
            case ir.AliasDef(target):
                self.stdlib.add("typing")
                ann = sc.ann(target)
                self.block("types.j2", "alias", {"name": sym.name, "ann": ann, "doc": doc})
                self.exports.append(sym.name)
                self.codec(sym.codec, sym.name, sc.codec(target))
            case ir.ResourceDef():
                assert owner_key is not None
                key = f"{owner_key}#{td.name}"
                guest = self.plan.guest_class.get(td.index)
                ann = guest or self.plan.host_proto.get(td.index) or "typing.Any"
                for own in (True, False):
                    name = self.plan.handle_codec[(td.index, own)]
                    self.codec(name, ann, f"rt.handle({key!r}, {guest}, own={own})")
                if ann == "typing.Any":
                    self.stdlib.add("typing")
                self._deferred.append((td, doc, owner_key))

    def _resource_classes(self, td: ir.TypeDef, doc: str, iface: str) -> None:
        plan, t = self.plan, td.index
        owner = plan.resolve.types[t]
        assert owner is not None
        kind, index = owner.owner
        owned = (
            plan.resolve.worlds[index].import_functions
            if kind == "world"
            else plan.resolve.interfaces[index].functions
        )
        funcs = [f for f in owned if f.resource == t]
        exports_cls = plan.exports_class.get(index, "object") if kind == "interface" else "object"
        guest = plan.guest_class.get(t)
        if guest is not None:
            view = rf.resource_class(self.scope, guest, doc, funcs, iface, exports_cls)
            self.block("funcs.j2", "exports_class", view, guest)
        host = plan.host_proto.get(t)
        if host is not None:
            self.stdlib.add("typing")
            methods = [f for f in funcs if f.kind == "method"]
            view = rf.resource_protocol(self.scope, host, doc, methods)
            self.block("funcs.j2", "protocol", view, host)

    def source(self) -> str:
        """The module's complete (unformatted) source."""
        self.codec(None)
        imports = []
        for module, names in sorted(self.scope.imports.items()):
            plain = sorted(remote for remote, local in names.items() if remote == local)
            if plain:
                imports.append(f"from .{module} import {', '.join(plain)}")
            imports += [
                f"from .{module} import {remote} as {local}"
                for remote, local in sorted(names.items())
                if remote != local
            ]
        blocks = self.blocks + (["\n".join(self.codecs)] if self.codecs else []) + self.tail
        return _ENV.get_template("module.py.j2").render(
            doc=self.doc,
            stdlib=sorted(self.stdlib),
            needs_wasmtime=self.needs_wasmtime,
            needs_rt=True,
            submodules=[],
            imports=imports,
            exports=sorted(set(self.exports), key=_all_key),
            blocks=blocks,
        )
