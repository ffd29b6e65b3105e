"""Rules for telling a component's world and version from its export/import names."""

from __future__ import annotations

import pytest
from dataflare.model import PluginKind
from dataflare.runtime.identify import WorldProblem, compatible, identify, parse_version
from dataflare.runtime.worlds import SUPPORTED, distinctive_exports, world_for
from hypothesis import given
from hypothesis import strategies as st

LOG = "dataflare:plugin/log@0.1.0"
TYPES = "dataflare:plugin/types@0.1.0"
WASI = ["wasi:cli/stdout@0.2.9", "wasi:io/streams@0.2.9"]
kinds = st.sampled_from(list(PluginKind))
versions_supported = st.sampled_from(SUPPORTED)


def own(version: str) -> list[str]:
    """A component's imports of our package, at `version`."""
    return [f"dataflare:plugin/log@{version}", f"dataflare:plugin/types@{version}"]


extra_names = st.sets(st.from_regex(r"x-[a-z]{1,8}", fullmatch=True), max_size=4)


@given(kinds, extra_names, st.booleans(), versions_supported)
def test_full_world_with_extras_is_identified(kind, extras, hinted, version):
    exports = set(world_for(kind, version).exports) | extras
    found = identify(exports, [*own(version), *WASI], kind if hinted else None)
    assert found.kind is kind
    assert found.version == version
    assert found.world is world_for(kind, version)


@given(kinds, st.data(), versions_supported)
def test_missing_exports_are_all_listed(kind, data, version):
    world = world_for(kind, version).exports
    missing = data.draw(st.sets(st.sampled_from(world), min_size=1))
    present = [name for name in world if name not in missing]
    if not distinctive_exports(kind, version) & set(present):
        return  # nothing left that tells the kind: covered by the other-world tests
    with pytest.raises(WorldProblem) as info:
        identify(present, own(version)[:1], None)
    head, listed = str(info.value).split(" (", 1)[0].split(": ", 1)
    assert head == f"it lacks exports of world {kind.value}@{version}"
    assert listed == ", ".join(name for name in world if name in missing)


def test_a_0_1_aggregate_built_as_0_2_lacks_merge():
    exports = world_for(PluginKind.AGGREGATE, "0.1.0").exports
    with pytest.raises(WorldProblem, match=r"lacks exports of world aggregate@0\.2\.0: merge "):
        identify(exports, own("0.2.0"), None)


@pytest.mark.parametrize("version", ["0.3.0", "1.0.0", "0.0.9"])
def test_an_unknown_version_is_refused_naming_the_supported_ones(version):
    with pytest.raises(WorldProblem) as info:
        identify(world_for(PluginKind.FILTER).exports, own(version), None)
    assert str(info.value) == (
        f"it was built for dataflare:plugin@{version}, a version this host does not support"
        " (it supports dataflare:plugin@0.1.x, dataflare:plugin@0.2.x)"
    )


@given(kinds, kinds)
def test_other_world_is_named(expected, actual):
    if expected is actual:
        return
    exports = world_for(actual, "0.1.0").exports
    with pytest.raises(WorldProblem) as info:
        identify(exports, [LOG], expected)
    text = str(info.value)
    # source and sink share connect/close, so the closest world may be named instead
    assert text.startswith(f"it targets world {actual.value}, not {expected.value}") or (
        text.startswith("it lacks exports of world")
    )


def test_tie_without_a_hint_is_reported():
    # `connect` and `close` are shared by source and sink, so they tell nothing.
    with pytest.raises(WorldProblem, match=r"fit several worlds equally \(source, sink\)"):
        identify(["describe", "configure", "read", "write"], [LOG], None)


def test_no_own_import_means_unknown_version():
    with pytest.raises(WorldProblem, match="imports no dataflare:plugin interface"):
        identify(world_for(PluginKind.FILTER).exports, WASI, None)
    with pytest.raises(WorldProblem, match="imports no dataflare:plugin interface"):
        identify(world_for(PluginKind.FILTER, "0.1.0").exports, WASI, None)


def test_disagreeing_versions_are_reported():
    with pytest.raises(WorldProblem, match="disagree on the version"):
        identify(
            world_for(PluginKind.FILTER, "0.1.0").exports,
            [LOG, "dataflare:plugin/types@0.2.0"],
            None,
        )


def test_wasi_preview3_is_not_provided():
    with pytest.raises(WorldProblem, match=r"does not provide: wasi:cli/stdout@0.3.0"):
        identify(
            world_for(PluginKind.FILTER, "0.1.0").exports, [LOG, "wasi:cli/stdout@0.3.0"], None
        )


versions = st.tuples(*(st.integers(0, 20),) * 3)


@given(versions, versions)
def test_compatibility_is_semver(host, guest):
    h, g = ".".join(map(str, host)), ".".join(map(str, guest))
    expected = guest[:2] == host[:2] if host[0] == 0 else guest[0] == host[0]
    assert compatible(h, g) is expected


@given(versions)
def test_compatibility_is_reflexive(version):
    text = ".".join(map(str, version))
    assert compatible(text, text)


def test_version_suffixes_and_garbage():
    assert parse_version("1.2.3-rc.1+build5") == (1, 2, 3)
    with pytest.raises(WorldProblem, match="not a semantic version"):
        parse_version("1.2")
