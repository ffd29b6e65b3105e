"""The compile cache: hits on the second load, survives bad entries, never fails a load."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from dataflare.compile_notice import SECONDS_PER_MB, compile_notices, estimate_seconds
from dataflare.conformance._harness import CHECK_ENGINE
from dataflare.model import PluginKind
from dataflare.pipeline.stage_limits import DEFAULT_LIMITS
from dataflare.runtime import CompileCache, EngineConfig, cache_dir, fingerprint, load_component
from dataflare.runtime.cache import cache_max_bytes
from dataflare.runtime.engine import DEFAULT_CONFIG, SANDBOX_CONFIG, wasmtime_version
from hypothesis import given
from hypothesis import strategies as st


def entry_of(cache: CompileCache, path: Path, config: EngineConfig = DEFAULT_CONFIG) -> Path:
    entries = cache.entries(path.read_bytes(), config)
    assert len(entries) == 1, entries
    return entries[0]


@pytest.mark.slow
def test_second_load_of_a_python_component_hits_the_cache(probe, tmp_path):
    cache = CompileCache(tmp_path)
    first = load_component(probe, PluginKind.FILTER, cache=cache)
    assert (cache.stats.hits, cache.stats.misses) == (0, 1)
    entry = entry_of(cache, probe)
    assert entry.parent.name == fingerprint(DEFAULT_CONFIG)
    assert entry.name.startswith(hashlib.sha256(probe.read_bytes()).hexdigest())
    second = load_component(probe, PluginKind.FILTER, cache=cache)
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)
    assert second.world == first.world and second.version == first.version


def test_entry_name_carries_the_artifact_digest(components, tmp_path):
    cache = CompileCache(tmp_path)
    load_component(components["filter"], cache=cache)
    entry = entry_of(cache, components["filter"])
    digest = entry.stem.rpartition("-")[2]
    assert hashlib.sha256(entry.read_bytes()).hexdigest().startswith(digest)


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_damaged_entry_is_discarded_and_recompiled(components, tmp_path, damage):
    cache = CompileCache(tmp_path)
    path = components["filter"]
    load_component(path, cache=cache)
    entry = entry_of(cache, path)
    data = bytearray(entry.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        del data[len(data) // 2 :]
    else:
        data.clear()
    entry.write_bytes(bytes(data))
    loaded = load_component(path, cache=cache)
    assert loaded.kind is PluginKind.FILTER
    assert (cache.stats.hits, cache.stats.misses, cache.stats.discarded) == (0, 2, 1)
    fresh = entry_of(cache, path)
    load_component(path, cache=cache)
    assert cache.stats.hits == 1 and fresh.is_file()


def test_entry_wasmtime_rejects_is_discarded(components, tmp_path):
    # Right digest in the name, wrong content for wasmtime (e.g. another build's artifact).
    cache = CompileCache(tmp_path)
    path = components["filter"]
    load_component(path, cache=cache)
    entry = entry_of(cache, path)
    junk = b"not an artifact of this wasmtime"
    digest = hashlib.sha256(junk).hexdigest()[:32]
    entry.unlink()
    forged = entry.with_name(f"{entry.stem.rpartition('-')[0]}-{digest}.cwasm")
    forged.write_bytes(junk)
    load_component(path, cache=cache)
    assert (cache.stats.discarded, cache.stats.misses) == (1, 2)
    assert not forged.exists()


def test_unwritable_cache_costs_time_not_the_load(components, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache dir should be")
    cache = CompileCache(blocker)
    for _ in range(2):
        assert load_component(components["sink"], cache=cache).kind is PluginKind.SINK
    assert (cache.stats.misses, cache.stats.write_failures, cache.stats.hits) == (2, 2, 0)


def test_engine_configs_do_not_share_entries(components, tmp_path):
    cache = CompileCache(tmp_path)
    fuel = EngineConfig(fuel=True)
    load_component(components["filter"], cache=cache)
    load_component(components["filter"], cache=cache, engine_config=fuel)
    assert cache.stats.misses == 2
    assert (
        entry_of(cache, components["filter"]).parent
        != entry_of(cache, components["filter"], fuel).parent
    )


def test_fingerprint_names_version_and_config():
    text = fingerprint(EngineConfig(fuel=True, epoch=False, opt_level="none"))
    assert f"wasmtime-{wasmtime_version()}-" in text
    assert text.endswith("-fuel1-epoch0-opt_none")
    assert fingerprint(EngineConfig()) != fingerprint(EngineConfig(epoch=True))
    assert "/" not in text


def test_cache_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAFLARE_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("DATAFLARE_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "dataflare"


def test_default_cache_follows_the_environment(components, monkeypatch, tmp_path):
    from dataflare.runtime import default_cache

    monkeypatch.setenv("DATAFLARE_CACHE_DIR", str(tmp_path))
    load_component(components["transform"])
    assert default_cache().directory == tmp_path
    assert list(tmp_path.rglob("*.cwasm"))


# ---------------------------------------------------------------- compile notice


def test_a_miss_is_announced_only_inside_compile_notices(components, tmp_path, capsys):
    cache = CompileCache(tmp_path)
    load_component(components["filter"], cache=cache)  # library use: silent
    assert capsys.readouterr() == ("", "")
    shown = io.StringIO()
    with compile_notices(shown):
        load_component(components["transform"], cache=cache)  # a miss
        load_component(components["transform"], cache=cache)  # a hit: nothing
    assert shown.getvalue() == "compiling transform.wasm, first time only, about 1 s\n"
    assert (cache.stats.hits, cache.stats.misses) == (1, 2)


@given(st.integers(min_value=0, max_value=1 << 32))
def test_compile_estimate_is_whole_seconds_growing_with_size(size):
    seconds = estimate_seconds(size)
    assert seconds >= 1
    assert seconds >= size / (1 << 20) * SECONDS_PER_MB
    assert estimate_seconds(size + (8 << 20)) > seconds


def test_the_commands_share_one_engine_config():
    """`run`'s default stage engine is the one `check` and `open_plugin` compile for."""
    assert DEFAULT_LIMITS.engine_config() == CHECK_ENGINE == SANDBOX_CONFIG
    assert SANDBOX_CONFIG.fuel and SANDBOX_CONFIG.epoch  # run's sandbox is not weakened


def test_open_plugin_compiles_for_the_sandbox_engine(components, monkeypatch, tmp_path):
    from dataflare.plugins.resolve import open_plugin

    monkeypatch.setenv("DATAFLARE_CACHE_DIR", str(tmp_path))
    plugin = open_plugin(components["transform@0.2.0"])
    plugin.close()
    assert [p.name for p in tmp_path.iterdir()] == [fingerprint(SANDBOX_CONFIG)]


# ---------------------------------------------------------------- eviction


def _fake_entry(root: Path, folder: str, name: str, size: int, mtime: float) -> Path:
    path = root / folder / f"{name}-0000.cwasm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))
    return path


def test_eviction_removes_least_recently_used_entries_across_engines(tmp_path):
    old = _fake_entry(tmp_path, "wasmtime-49-old", "a", 400, 1000)
    mid = _fake_entry(tmp_path, "wasmtime-50", "b", 400, 2000)
    new = _fake_entry(tmp_path, "wasmtime-50", "c", 400, 3000)
    (tmp_path / "wasmtime-50" / "notes.txt").write_text("not an entry")
    cache = CompileCache(tmp_path, max_bytes=900)
    assert cache.evict() == [old]
    assert not old.exists() and mid.exists() and new.exists()
    assert (tmp_path / "wasmtime-50" / "notes.txt").exists()
    assert CompileCache(tmp_path, max_bytes=0).evict(keep=mid) == [new]
    assert mid.exists()  # the entry just written always stays


def test_a_hit_refreshes_an_entry_so_it_is_evicted_last(components, tmp_path):
    cache = CompileCache(tmp_path)
    load_component(components["filter"], cache=cache)
    load_component(components["transform"], cache=cache)
    used = entry_of(cache, components["filter"])
    other = entry_of(cache, components["transform"])
    os.utime(used, (1000, 1000))
    os.utime(other, (2000, 2000))
    load_component(components["filter"], cache=cache)  # a hit: now the most recent
    assert cache.stats.hits == 1
    bound = used.stat().st_size + other.stat().st_size - 1
    assert CompileCache(tmp_path, max_bytes=bound).evict() == [other]


def test_writing_past_the_bound_evicts_and_still_caches(components, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAFLARE_CACHE_MAX_MB", "0")
    cache = CompileCache(tmp_path)
    load_component(components["filter"], cache=cache)
    load_component(components["transform"], cache=cache)
    assert cache.entries(components["filter"].read_bytes(), DEFAULT_CONFIG) == []
    entry_of(cache, components["transform"])  # the newest stays, even over the bound
    load_component(components["transform"], cache=cache)
    assert cache.stats.hits == 1


def test_a_bad_size_bound_warns_and_uses_the_default(monkeypatch, caplog):
    monkeypatch.setenv("DATAFLARE_CACHE_MAX_MB", "lots")
    assert cache_max_bytes() == 2048 << 20
    assert "DATAFLARE_CACHE_MAX_MB must be a whole number of megabytes, got 'lots'" in caplog.text
    monkeypatch.setenv("DATAFLARE_CACHE_MAX_MB", "5")
    assert cache_max_bytes() == 5 << 20
