"""Where a 0.2 `filter_columns` call spends its time (section (h)'s profile on a miss).

The adapter call is cut into the parts that can be timed on their own, each
sampled round-robin with the whole call so all see the same load:

- thread hop: `PluginInstance.call` of a function that does nothing (the
  call runs on the plugin's own thread, under its lock, limits armed);
- host prep: Arrow batch to WIT `batch` (`wit_columns.to_wit_batch`) and the
  byte-bound cut (`_pieces`);
- C lower + lift: the generated call minus the floor below (the `_fastc`
  codec turning the WIT batch into C-API values and the outcome back);
- wasmtime + guest: the floor, the same C call with the argument arrays built
  once (wasmtime's canonical-ABI copy of the string and offsets into linear
  memory, the guest's parse and decisions, the outcome's return);
- host post: the keep bitmap to Arrow booleans (`bitmap_to_keep`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from dataflare.plugins.wasm_columns import WasmColumnsFilter
from dataflare.plugins.wit_columns import bitmap_to_keep, to_wit_batch

PARTS = ("thread hop", "host prep", "C lower + lift", "wasmtime + guest", "host post")


def split(
    adapter: WasmColumnsFilter,
    world: Any,
    batch: pa.RecordBatch,
    floor: Callable[[], None],
    timer: Callable[[list[Callable[[], Any]], int], list[float]],
    repeats: int,
) -> tuple[dict[str, float], float]:
    """Seconds per call of each part of `adapter.filter_columns(batch)`, and of the whole.

    `world` is a bare generated `Filter` of the same component, `floor` its
    `filter-batch` with prebuilt arguments, `timer` runs functions
    interleaved and returns their median seconds.
    """
    wb = to_wit_batch(batch)
    out = world.filter_batch(wb)
    n = batch.num_rows
    instance = adapter._instance
    fns: list[Callable[[], Any]] = [
        lambda: instance.call(_nothing),
        lambda: (to_wit_batch(batch), list(adapter._pieces(batch))),
        lambda: world.filter_batch(wb),
        floor,
        lambda: bitmap_to_keep(out.keep, n),
        lambda: adapter.filter_columns(batch),
    ]
    hop, prep, bare, t_floor, post, whole = timer(fns, repeats)
    parts = dict(zip(PARTS, (hop, prep, max(bare - t_floor, 0.0), t_floor, post), strict=True))
    return parts, whole


def _nothing(world: Any) -> None:
    return None
