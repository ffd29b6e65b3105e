"""Each bad input to `load_component` names the file, the expected world and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataflare.errors import ComponentError, ComponentLoadError, WorldMismatchError
from dataflare.model import PluginKind
from dataflare.runtime import CompileCache, load_component

FILTER_WORLD = (
    "a filter plugin (world dataflare:plugin/filter of dataflare:plugin@0.1.x,"
    " dataflare:plugin@0.2.x)"
)


@pytest.fixture
def cache(tmp_path: Path) -> CompileCache:
    return CompileCache(tmp_path / "cache")


def message_of(exc_type: type[ComponentError], path: Path, cache: CompileCache,
               expected: PluginKind | None = PluginKind.FILTER) -> str:  # fmt: skip
    with pytest.raises(exc_type) as info:
        load_component(path, expected, cache=cache)
    text = str(info.value)
    assert text.startswith(f"{path}: cannot load as "), text
    return text


@pytest.mark.parametrize("kind", list(PluginKind))
def test_each_world_is_identified_without_a_hint(components, cache, kind):
    loaded = load_component(components[kind.value], cache=cache)
    assert loaded.kind is kind
    assert loaded.world.name == kind.value
    assert loaded.version == "0.1.0"
    assert loaded.path == components[kind.value]
    assert "dataflare:plugin/log@0.1.0" in loaded.imports


def test_expected_world_that_matches_loads(components, cache):
    loaded = load_component(str(components["filter"]), PluginKind.FILTER, cache=cache)
    assert loaded.kind is PluginKind.FILTER


def test_compatible_newer_patch_version_loads(components, cache):
    loaded = load_component(components["filter@0.1.7"], PluginKind.FILTER, cache=cache)
    assert loaded.version == "0.1.7"


def test_missing_file(tmp_path, cache):
    path = tmp_path / "nope.wasm"
    text = message_of(ComponentLoadError, path, cache)
    assert text == f"{path}: cannot load as {FILTER_WORLD}: file not found"


def test_directory_is_not_a_file(tmp_path, cache):
    text = message_of(ComponentLoadError, tmp_path, cache)
    assert text == f"{tmp_path}: cannot load as {FILTER_WORLD}: it is a directory, not a .wasm file"


def test_unreadable_file(tmp_path, cache, monkeypatch):
    # Tests run as root, where chmod 000 still reads, so make the read fail directly.
    path = tmp_path / "locked.wasm"
    path.write_bytes(b"\0asm")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    text = message_of(ComponentLoadError, path, cache)
    assert text == f"{path}: cannot load as {FILTER_WORLD}: file is unreadable (Permission denied)"


def test_not_webassembly_at_all(tmp_path, cache):
    path = tmp_path / "text.wasm"
    path.write_bytes(b"hello, world\n")
    text = message_of(ComponentLoadError, path, cache)
    assert text == (
        f"{path}: cannot load as {FILTER_WORLD}: the file is corrupt"
        " (no WebAssembly header: starts with b'hello, w')"
    )


def test_empty_file(tmp_path, cache):
    path = tmp_path / "empty.wasm"
    path.write_bytes(b"")
    assert "the file is corrupt (no WebAssembly header: starts with b'')" in message_of(
        ComponentLoadError, path, cache
    )


def test_truncated_component_is_corrupt(components, tmp_path, cache):
    data = components["filter"].read_bytes()
    path = tmp_path / "truncated.wasm"
    path.write_bytes(data[: len(data) // 2])
    text = message_of(ComponentLoadError, path, cache)
    assert f"{path}: cannot load as {FILTER_WORLD}: the component is corrupt (wasmtime: " in text
    assert cache.stats.misses == 1 and not list((tmp_path / "cache").rglob("*.cwasm"))


def test_unknown_layer_is_corrupt(tmp_path, cache):
    path = tmp_path / "layer7.wasm"
    path.write_bytes(b"\0asm\x0d\x00\x07\x00")
    text = message_of(ComponentLoadError, path, cache)
    assert text.endswith("the file is corrupt (unknown WebAssembly layer 7)")


def test_core_module_is_not_a_component(components, cache):
    path = components["core"]
    text = message_of(ComponentLoadError, path, cache)
    assert text == (
        f"{path}: cannot load as {FILTER_WORLD}: it is a core WebAssembly module, not a"
        " component (missing the component layer; wrap it with `wasm-tools component new`)"
    )


def test_component_of_another_world(components, cache):
    path = components["transform"]
    text = message_of(WorldMismatchError, path, cache)
    assert text == (
        f"{path}: cannot load as {FILTER_WORLD}: it targets world transform, not filter"
        " (it exports: configure, describe, transform, transform-batch;"
        " missing: filter, filter-batch)"
    )


def test_component_of_no_world_with_a_hint(components, cache):
    path = components["no-kind"]
    text = message_of(WorldMismatchError, path, cache)
    assert text == (
        f"{path}: cannot load as {FILTER_WORLD}: it lacks exports of world filter@0.1.0:"
        " filter, filter-batch (it exports: configure, describe, frobnicate)"
    )


def test_component_of_no_world_without_a_hint(components, cache):
    path = components["no-kind"]
    text = message_of(WorldMismatchError, path, cache, expected=None)
    assert text == (
        f"{path}: cannot load as a DataFlare plugin (any world of dataflare:plugin@0.1.x,"
        " dataflare:plugin@0.2.x: source, sink, filter, transform, aggregate): it targets"
        " none of the worlds source, sink, filter, transform, aggregate: it has none of"
        " their kind-specific exports (it exports: configure, describe, frobnicate)"
    )


@pytest.mark.parametrize("expected", [PluginKind.FILTER, None])
def test_component_missing_an_export(components, cache, expected):
    path = components["filter-no-batch"]
    text = message_of(WorldMismatchError, path, cache, expected=expected)
    assert text.endswith(
        ": it lacks exports of world filter@0.1.0: filter-batch"
        " (it exports: configure, describe, filter)"
    )
    if expected is PluginKind.FILTER:
        assert text.startswith(f"{path}: cannot load as {FILTER_WORLD}: ")


@pytest.mark.parametrize("version", ["0.3.0", "9.0.0"])
@pytest.mark.parametrize("expected", [PluginKind.FILTER, None])
def test_unknown_version_is_refused_naming_the_supported_ones(components, cache, version, expected):
    path = components[f"filter@{version}"]
    text = message_of(WorldMismatchError, path, cache, expected)
    assert text.endswith(
        f": it was built for dataflare:plugin@{version}, a version this host does not support"
        " (it supports dataflare:plugin@0.1.x, dataflare:plugin@0.2.x)"
    )


@pytest.mark.parametrize("kind", list(PluginKind))
def test_0_1_and_0_2_components_load_side_by_side(components, cache, kind):
    old = load_component(components[kind.value], cache=cache)
    new = load_component(components[f"{kind.value}@0.2.0"], cache=cache)
    assert (old.kind, new.kind) == (kind, kind)
    assert (old.version, old.world.version) == ("0.1.0", "0.1.0")
    assert (new.version, new.world.version) == ("0.2.0", "0.2.0")
    assert "merge" in new.world.exports if kind is PluginKind.AGGREGATE else True


def test_compatible_newer_0_2_patch_version_loads(components, cache):
    loaded = load_component(components["filter@0.2.5"], PluginKind.FILTER, cache=cache)
    assert (loaded.version, loaded.world.version) == ("0.2.5", "0.2.0")


def test_import_the_host_does_not_provide(components, cache):
    path = components["filter-extra-import"]
    text = message_of(WorldMismatchError, path, cache)
    assert text == (
        f"{path}: cannot load as {FILTER_WORLD}: it imports interfaces the host does not"
        " provide: dataflare:plugin/secrets@0.1.0"
    )


def test_errors_are_dataflare_errors(tmp_path, cache):
    from dataflare.errors import DataFlareError

    with pytest.raises(DataFlareError):
        load_component(tmp_path / "missing.wasm", cache=cache)


@pytest.mark.guests
def test_python_transform_guest_loaded_as_filter(shared_cache):
    from support.guests import built_guest

    path = built_guest("python", "mask_email")
    with pytest.raises(WorldMismatchError) as info:
        load_component(path, PluginKind.FILTER, cache=shared_cache)
    text = str(info.value)
    assert text.startswith(f"{path}: cannot load as {FILTER_WORLD}: it targets world transform,")
    assert text.endswith("missing: filter, filter-batch)")
    assert load_component(path, cache=shared_cache).kind is PluginKind.TRANSFORM
