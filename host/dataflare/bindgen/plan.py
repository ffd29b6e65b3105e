"""Stage 2: decide what to generate and what every Python name is.

A `Plan` picks the worlds, the interface modules they need, each module's
name, and the Python name of every named WIT type, so the renderer only
looks names up. Naming rules themselves live in `naming`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from dataflare.bindgen import ir
from dataflare.bindgen.naming import Namespace, pascal, snake
from dataflare.errors import BindgenError

__all__ = ["Plan", "Symbol", "make_plan", "named_in"]


@dataclass(frozen=True, slots=True)
class Symbol:
    """Where a named type lives: its module, Python name and codec variable."""

    module: str
    name: str
    codec: str


@dataclass(slots=True)
class Plan:
    """Every decision the renderer needs, computed once from the IR."""

    resolve: ir.Resolve
    worlds: list[ir.World]
    interfaces: list[ir.Interface]
    iface_module: dict[int, str] = field(default_factory=dict)
    world_module: dict[int, str] = field(default_factory=dict)
    exported: set[int] = field(default_factory=set)
    imported: set[int] = field(default_factory=set)
    symbols: dict[int, Symbol] = field(default_factory=dict)
    # resource index -> names of its guest wrapper class / host Protocol
    guest_class: dict[int, str] = field(default_factory=dict)
    host_proto: dict[int, str] = field(default_factory=dict)
    # (resource index, own) -> codec variable in the resource's module
    handle_codec: dict[tuple[int, bool], str] = field(default_factory=dict)
    # module name -> names defined at its top level
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    # interface index -> exports class / host Protocol names
    exports_class: dict[int, str] = field(default_factory=dict)
    host_class: dict[int, str] = field(default_factory=dict)

    def symbol(self, index: int) -> Symbol:
        """The symbol of named type `index`, looking through `use` aliases."""
        return self.symbols[self.transparent(index)]

    def transparent(self, index: int) -> int:
        """Follow aliases created by `use` (same type, another owner) to the original."""
        td = self.resolve.types[index]
        while (
            td is not None
            and isinstance(td.kind, ir.AliasDef)
            and isinstance(td.kind.target, ir.Named)
            and self._is_use(td, td.kind.target.index)
        ):
            index = td.kind.target.index
            td = self.resolve.types[index]
        return index

    def _is_use(self, td: ir.TypeDef, target: int) -> bool:
        other = self.resolve.types[target]
        return other is not None and (td.owner[0] == "world" or other.owner != td.owner)

    def is_host_resource(self, index: int) -> bool:
        """Whether resource `index` is only ever implemented by the host (never a guest class)."""
        index = self.transparent(index)
        return index in self.host_proto and index not in self.guest_class

    def exports_host_resources(self, world: ir.World) -> bool:
        """Whether a guest export of `world` takes or returns a host-implemented resource.

        Then the world class needs the linker's `HostContext`: host objects
        passed to the guest live in its tables.
        """
        funcs = list(world.export_functions)
        for i in world.export_interfaces:
            funcs.extend(self.resolve.interfaces[i].functions)
        todo = [i for f in funcs for i in _named_in_func(f)]
        seen: set[int] = set()
        while todo:
            index = self.transparent(todo.pop())
            td = self.resolve.types[index]
            if index in seen or td is None:
                continue
            seen.add(index)
            if isinstance(td.kind, ir.ResourceDef) and self.is_host_resource(index):
                return True
            todo.extend(_named_in_kind(td.kind))
        return False

    def is_wasi(self, iface: ir.Interface) -> bool:
        """WASI interfaces are linked by `add_wasip2`, never by generated code."""
        if iface.package is None:
            return False
        return self.resolve.packages[iface.package].namespace == "wasi"


def make_plan(resolve: ir.Resolve, worlds: Sequence[str] | None) -> Plan:
    """Choose worlds and interfaces and name everything."""
    chosen = _choose_worlds(resolve, worlds)
    main_pkgs = {w.package for w in chosen} or {len(resolve.packages) - 1}
    wanted: set[int] = set()
    plan = Plan(resolve=resolve, worlds=chosen, interfaces=[])
    for w in chosen:
        # An interface both imported and exported (`import x; export x;`, or an
        # export another import uses types of) gets host code too: the host may
        # serve the import, or leave it to trapping stubs.
        plan.imported.update(w.import_interfaces)
        plan.exported.update(w.export_interfaces)
        wanted.update(w.import_interfaces + w.export_interfaces)
    if not chosen:
        wanted.update(i.index for i in resolve.interfaces if i.package in main_pkgs)
    # WASI interfaces get a module only when a type of theirs is used.
    wanted = {i for i in wanted if not plan.is_wasi(resolve.interfaces[i])}
    wanted = _close_over_types(resolve, wanted, chosen)
    plan.interfaces = [i for i in resolve.interfaces if i.index in wanted]
    _name_modules(plan, main_pkgs)
    for iface in plan.interfaces:
        _name_interface(plan, iface)
    for w in chosen:
        _name_world_types(plan, w)
    return plan


def _choose_worlds(resolve: ir.Resolve, names: Sequence[str] | None) -> list[ir.World]:
    if names is None:
        if not resolve.worlds:
            return []
        root = resolve.worlds[-1].package
        return [w for w in resolve.worlds if w.package == root]
    found: list[ir.World] = []
    for name in names:
        matches = [
            w
            for w in resolve.worlds
            if name in (w.name, f"{resolve.packages[w.package].id}/{w.name}")
        ]
        if not matches:
            known = ", ".join(sorted(w.name for w in resolve.worlds)) or "none"
            raise BindgenError(f"no world named {name!r} (worlds: {known})")
        found.append(matches[-1])
    return found


def _close_over_types(resolve: ir.Resolve, wanted: set[int], worlds: list[ir.World]) -> set[int]:
    # Interfaces whose types are used by wanted interfaces or worlds are wanted too.
    todo = list(wanted)
    refs = [t for w in worlds for t in w.types]
    for w in worlds:
        for f in w.import_functions + w.export_functions:
            refs.extend(_named_in_func(f))
    while True:
        for index in todo:
            iface = resolve.interfaces[index]
            refs.extend(iface.types)
            for f in iface.functions:
                refs.extend(_named_in_func(f))
        todo = []
        for ref in refs:
            td = resolve.types[ref]
            if td is None:
                continue
            refs_of = _named_in_kind(td.kind)
            if td.owner[0] == "interface" and td.owner[1] not in wanted and td.owner[1] >= 0:
                wanted.add(td.owner[1])
                todo.append(td.owner[1])
            for r in refs_of:
                t2 = resolve.types[r]
                if t2 is not None and t2.owner[0] == "interface" and t2.owner[1] not in wanted:
                    wanted.add(t2.owner[1])
                    todo.append(t2.owner[1])
        refs = []
        if not todo:
            return wanted


def named_in(ty: ir.Ty | None) -> list[int]:
    """Indexes of the named types and resources `ty` mentions directly."""
    match ty:
        case ir.Named(index):
            return [index]
        case ir.Handle(resource, _):
            return [resource]
        case ir.ListT(elem) | ir.OptionT(elem):
            return named_in(elem)
        case ir.TupleT(elems):
            return [i for e in elems for i in named_in(e)]
        case ir.ResultT(ok, err):
            return named_in(ok) + named_in(err)
    return []


def _named_in_func(f: ir.Func) -> list[int]:
    return [i for p in f.params for i in named_in(p.ty)] + named_in(f.result)


def _named_in_kind(kind: ir.TypeKind) -> list[int]:
    match kind:
        case ir.RecordDef(fields):
            return [i for f in fields for i in named_in(f.ty)]
        case ir.VariantDef(cases):
            return [i for c in cases for i in named_in(c.ty)]
        case ir.AliasDef(target):
            return named_in(target)
    return []


def _name_modules(plan: Plan, main_pkgs: set[int]) -> None:
    taken = Namespace({"__init__", "rt"})
    for iface in plan.interfaces:
        base = snake(iface.name)
        if iface.package is not None and iface.package not in main_pkgs:
            pkg = plan.resolve.packages[iface.package]
            base = snake(f"{pkg.namespace}-{pkg.name}-{iface.name}")
        plan.iface_module[iface.index] = taken.claim(base)
    for w in plan.worlds:
        base = snake(w.name)
        plan.world_module[w.index] = taken.claim(base if base not in taken else base + "_world")
    for module in list(plan.iface_module.values()) + list(plan.world_module.values()):
        plan.namespaces[module] = Namespace(
            {"add_to_linker", "add_imports_to_linker", "WORLD", "annotations"}
        )


def _name_world_types(plan: Plan, world: ir.World) -> None:
    module = plan.world_module[world.index]
    ns = plan.namespaces[module]
    for t, td, name in _named_types(plan, module, ns, world.types):
        if isinstance(td.kind, ir.ResourceDef):
            # world-level types are always imports: the host implements them
            plan.host_proto[t] = name
            _name_handle_codecs(plan, ns, td)


def _named_types(
    plan: Plan, module: str, ns: Namespace, types: Iterable[int]
) -> Iterator[tuple[int, ir.TypeDef, str]]:
    """Claim a class and a codec name for each type that gets a definition of its own."""
    for t in types:
        td = plan.resolve.types[t]
        if td is None or plan.transparent(t) != t:
            continue
        name = ns.claim(pascal(td.name))
        plan.symbols[t] = Symbol(module, name, ns.claim(f"_{snake(td.name).rstrip('_')}_codec"))
        yield t, td, name


def _name_handle_codecs(plan: Plan, ns: Namespace, td: ir.TypeDef) -> None:
    for own in (True, False):
        kind = "own" if own else "borrow"
        plan.handle_codec[(td.index, own)] = ns.claim(f"_{snake(td.name).rstrip('_')}_{kind}_codec")


def _name_interface(plan: Plan, iface: ir.Interface) -> None:
    module = plan.iface_module[iface.index]
    ns = plan.namespaces[module]
    unused = iface.index not in plan.exported and iface.index not in plan.imported
    for t, td, name in _named_types(plan, module, ns, iface.types):
        if isinstance(td.kind, ir.ResourceDef):
            if iface.index in plan.exported or unused:
                plan.guest_class[t] = name
            if iface.index in plan.imported or unused:
                host = name + "Host" if t in plan.guest_class else name
                plan.host_proto[t] = ns.claim(host) if host != name else host
            _name_handle_codecs(plan, ns, td)
    if any(f.kind == "freestanding" or f.resource is not None for f in iface.functions):
        if iface.index in plan.exported or unused:
            plan.exports_class[iface.index] = ns.claim(pascal(iface.name))
        if iface.index in plan.imported or unused:
            plan.host_class[iface.index] = ns.claim(pascal(iface.name) + "Host")
