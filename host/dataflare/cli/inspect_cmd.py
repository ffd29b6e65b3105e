"""`dataflare inspect PLUGIN`: the world, versions, exports and declared params of a plugin."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from dataflare.cli.plugin_options import KINDS, resolve_project_plugin

if TYPE_CHECKING:
    from dataflare.plugins.kinds import AnyPlugin

__all__ = ["describe_plugin", "register"]


def register(subparsers: Any) -> None:
    """Add the `inspect` subcommand."""
    parser = subparsers.add_parser(
        "inspect",
        help="show a plugin's world, versions, exports and parameters",
        description=(
            "Show what a plugin is: the WIT world it targets and at which version, its "
            "exports and imports, and the parameters it declares. PLUGIN is a .wasm "
            "component or a native plugin as KIND/NAME (e.g. filter/json_filter)."
        ),
    )
    parser.add_argument(
        "plugin",
        metavar="PLUGIN",
        nargs="?",
        help="a .wasm file or KIND/NAME, or a plugin project folder (default: the project "
        "of the current folder, its build/NAME.wasm)",
    )
    parser.add_argument(
        "--world", choices=KINDS, help="the kind the plugin must be (default: tell from it)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Open the plugin, print its description, close it."""
    from dataflare.plugins.resolve import open_plugin  # imported when run: keeps --help fast

    resolve_project_plugin(args)
    plugin = open_plugin(args.plugin, args.world, stage="inspect")
    try:
        facts = describe_plugin(plugin)
    finally:
        plugin.close()
    print(json.dumps(facts, indent=2) if args.json else _text(facts))
    return 0


def describe_plugin(plugin: AnyPlugin) -> dict[str, Any]:
    """Everything `inspect` shows, as a JSON-ready dict."""
    # Imported on use: they load wasmtime, which `dataflare --help` must not.
    from dataflare.plugins.wasm import WasmPlugin
    from dataflare.runtime.worlds import world_for

    info = plugin.describe()
    if isinstance(plugin, WasmPlugin):
        loaded = plugin.loaded
        world = loaded.world
        source = str(loaded.path)
        version = loaded.version
        exports = sorted(loaded.component.type.exports(loaded.engine))
        imports = list(loaded.imports)
    else:
        world = world_for(info.kind)
        source = f"native: {type(plugin).__module__}.{type(plugin).__qualname__}"
        version = world.version
        exports = sorted(world.exports)
        imports = []
    return {
        "name": info.name,
        "version": info.version,
        "kind": info.kind.value,
        "description": info.description,
        "source": source,
        "world": f"{world.package}/{world.name}",
        "world_version": version,
        "exports": exports,
        "imports": imports,
        "params": [
            {
                "name": p.name,
                "required": p.required,
                "default": p.default,
                "description": p.description,
            }
            for p in info.params
        ],
    }


def _text(facts: dict[str, Any]) -> str:
    imports = facts["imports"]
    wasi = [i for i in imports if i.startswith("wasi:")]
    shown = [i for i in imports if not i.startswith("wasi:")]
    if wasi:
        shown.append(f"{len(wasi)} wasi:* interfaces (sandboxed)")
    lines = [
        f"plugin       {facts['name']} {facts['version']} ({facts['kind']})",
        f"from         {facts['source']}",
        f"world        {facts['world']}@{facts['world_version']}",
        f"exports      {', '.join(facts['exports'])}",
        f"imports      {', '.join(shown) or 'none'}",
        f"description  {facts['description'] or '-'}",
        "params" + ("" if facts["params"] else "       none"),
    ]
    width = max((len(p["name"]) for p in facts["params"]), default=0)
    for p in facts["params"]:
        if p["required"]:
            need = "required"
        elif p["default"] is not None:
            need = f"default {json.dumps(p['default'])}"
        else:
            need = "optional"
        lines.append(f"  {p['name']:<{width}}  {need:<18}  {p['description']}".rstrip())
    return "\n".join(lines)
