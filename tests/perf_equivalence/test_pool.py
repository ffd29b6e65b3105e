"""Instance pools: order-preserving parallel batches over members used one thread at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from dataflare.model import PluginKind, Record
from dataflare.plugins.wasm import WasmFilter, load_wasm_plugin
from dataflare.runtime import load_component
from dataflare.runtime.pool import (
    InstancePool,
    PooledPlugin,
    chunks,
    pooled_batch,
    pooled_loader,
)
from hypothesis import given
from hypothesis import strategies as st
from support.guests import built_guest, v0_1_fixture


class Member:
    """A fake plugin that records which threads use it at once."""

    def __init__(self, name: int) -> None:
        self.name = name
        self.busy = threading.Lock()
        self.overlaps = 0
        self.closed = False

    def double(self, items: Sequence[int]) -> list[int]:
        if not self.busy.acquire(blocking=False):
            self.overlaps += 1
            self.busy.acquire()
        try:
            time.sleep(0.001)
            if -1 in items:
                raise ValueError("boom")
            return [2 * x for x in items]
        finally:
            self.busy.release()

    def close(self) -> None:
        self.closed = True


def pool_of(size: int) -> InstancePool[Member]:
    names = iter(range(size))
    return InstancePool(lambda: Member(next(names)), size)


@given(st.lists(st.integers(), max_size=50), st.integers(1, 8))
def test_chunks_cover_the_items_in_order(items: list[int], parts: int) -> None:
    cut = chunks(items, parts)
    assert [x for part in cut for x in part] == items
    assert len(cut) <= parts
    assert all(cut) or not items


@pytest.mark.parametrize("size", [1, 2, 3])
def test_pooled_batch_preserves_order_and_never_shares_a_member(size: int) -> None:
    with pool_of(size) as pool:
        for n in (0, 1, 5, 100):
            items = list(range(n))
            assert pooled_batch(pool, items, Member.double) == [2 * x for x in items]
        assert sum(m.overlaps for m in pool.members) == 0
    assert all(m.closed for m in pool.members)


def test_an_error_is_raised_after_every_chunk_finished() -> None:
    with pool_of(2) as pool:
        with pytest.raises(ValueError, match="boom"):
            pooled_batch(pool, [1, 2, -1, 4], Member.double)
        assert pooled_batch(pool, [1, 2], Member.double) == [2, 4]  # members returned


def test_a_wrong_number_of_outputs_is_refused() -> None:
    with pool_of(2) as pool, pytest.raises(ValueError, match="broke the batch contract"):
        pooled_batch(pool, [1, 2, 3], lambda m, chunk: [0])


def test_a_closed_pool_refuses_work_and_a_bad_size_is_refused() -> None:
    pool = pool_of(2)
    pool.close()
    pool.close()
    with pytest.raises(ValueError, match="closed"):
        pool.run(Member.double, [[1]])
    with pytest.raises(ValueError, match="at least 1"):
        InstancePool(lambda: Member(0), -1)


@pytest.mark.guests
def test_pooled_wasm_filter_matches_one_instance() -> None:
    loaded = load_component(
        v0_1_fixture("json_filter.rust", Path()), PluginKind.FILTER
    )  # 0.1 adapter

    def make() -> Any:
        plugin = WasmFilter(loaded)
        plugin.configure({"field": "k", "value": "1"})
        return plugin

    records = [Record(f'{{"k": {i % 3}}}'.encode()) for i in range(200)] + [Record(b"nope")]
    single = make()
    expected = single.filter_batch(records)
    single.close()
    with InstancePool(make, 2) as pool:
        got = pooled_batch(pool, records, lambda p, chunk: p.filter_batch(chunk))
    assert [repr(x) for x in got] == [repr(x) for x in expected]
    assert sum(1 for x in got if x is True) == 67


@pytest.mark.guests
def test_pooled_plugin_configures_every_member_and_keeps_order() -> None:
    loaded = load_component(
        v0_1_fixture("json_filter.rust", Path()), PluginKind.FILTER
    )  # 0.1 adapter
    plugin = PooledPlugin(lambda: WasmFilter(loaded), 2)
    try:
        plugin.configure({"field": "k", "value": "2"})
        assert plugin.describe().name == "json_filter"
        records = [Record(f'{{"k": {i % 3}}}'.encode()) for i in range(300)]
        assert plugin.filter_batch(records) == [i % 3 == 2 for i in range(300)]
        assert plugin.filter(Record(b'{"k": 2}')) is True
    finally:
        plugin.close()
        plugin.close()


def test_small_batches_are_not_split_below_the_minimum_chunk() -> None:
    with pool_of(2) as pool:
        seen: list[int] = []
        pooled_batch(pool, list(range(10)), lambda m, c: seen.append(len(c)) or c, min_chunk=8)
        assert seen == [10]


def test_max_chunk_bounds_every_call() -> None:
    with pool_of(2) as pool:
        seen: list[int] = []
        out = pooled_batch(
            pool, list(range(130)), lambda m, c: seen.append(len(c)) or list(c), max_chunk=32
        )
        assert out == list(range(130))
        assert max(seen) <= 32 and sum(seen) == 130


@pytest.mark.guests
def test_pooled_loader_pools_filters_and_transforms_only() -> None:
    calls: list[str] = []

    def loader(path: Any, kind: Any, name: Any, stage: Any) -> Any:
        calls.append(stage)
        return load_wasm_plugin(path, kind, name=name, stage=stage)

    load = pooled_loader(loader, 2)
    filt = load(built_guest("rust", "json_filter"), PluginKind.FILTER, None, "f")
    agg = load(built_guest("rust", "count_sum"), PluginKind.AGGREGATE, None, "a")
    try:
        assert isinstance(filt, PooledPlugin) and not isinstance(agg, PooledPlugin)
        assert calls == ["f", "f", "a"]
        filt.configure({"field": "k", "value": "1"})
        assert filt.filter_batch([Record(b'{"k": 1}'), Record(b'{"k": 2}')]) == [True, False]
    finally:
        filt.close()
        agg.close()
