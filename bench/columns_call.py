"""The 0.2 columnar `filter-batch` call against the byte-pointer ABI anchor and the 0.1 call.

    PYTHONPATH=host python bench/columns_call.py [--repeats N]

Until the Rust examples move to 0.2.0, the 0.2 side is the hand-written
test guest (tests/fixtures/guest_v0_2, json_filter's rules and JSON reader,
the anchor's too); the 0.1 side is the committed 0.1 build of the Rust
json_filter (tests/fixtures/v0_1). All run in one process, sampled
round-robin, batch 1024, every other record kept:

- byte ABI: `bench/byte_abi` (frame, one memmove, one call);
- 0.1 typed: `filter-batch(list<record>)` through the generated 0.1 bindings;
- 0.2 call: `filter-batch(batch)` on a ready WIT batch (the call alone);
- 0.2 adapter: `WasmColumnsFilter.filter_columns(arrow batch)`, i.e. Arrow
  to WIT, the call and the bitmap back to Arrow, on the calling thread (the
  runtime's hand-off to its guest thread, ~30 us on an idle machine and
  scheduler-bound on a loaded one, is left out: it is the same for every
  path through `PluginInstance`);
- native: a Python `json.loads` loop.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import byte_abi_call
from dataflare._wit_v0_1 import filter as wit_filter_0_1
from dataflare.abi import rt
from dataflare.columns import from_values
from dataflare.model import PluginKind
from dataflare.plugins.wasm import load_wasm_plugin
from dataflare.plugins.wasm_columns import WasmColumnsFilter
from dataflare.plugins.wit_columns import to_wit_batch
from dataflare.runtime import load_component
from dataflare.runtime.instance import PluginInstance
from run import anchor_values, interleaved, json_loads_loop

ROOT = Path(__file__).resolve().parents[1]
FIELD, VALUE = "status", "active"


def guest_0_2() -> Path:
    """Build (if stale) the 0.2 test guest; its json_filter component."""
    subprocess.run(["make", "-s", "-C", str(ROOT / "tests/fixtures/guest_v0_2")], check=True)
    return ROOT / "build/test-components/v0_2/json_filter.wasm"


class Inline:
    """Stands for `PluginInstance` in the adapter: calls run on this thread."""

    def __init__(self, world: Any, name: str) -> None:
        self.world = world
        self.name = name

    def call(self, fn: Any, *, fuel: int | None = None) -> Any:
        return fn(self.world)

    def close(self) -> None:
        pass


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    anchor = byte_abi_call.ByteAbiFilter(byte_abi_call.build(), FIELD, VALUE)
    old_loaded = load_component(ROOT / "tests/fixtures/v0_1/json_filter.rust.wasm")
    old_inst = PluginInstance(old_loaded, wit_filter_0_1.Filter)
    old: Any = old_inst.call(lambda w: w)
    assert isinstance(old.configure([("field", FIELD), ("value", VALUE)]), rt.Ok)
    new = load_wasm_plugin(guest_0_2(), PluginKind.FILTER)
    assert isinstance(new, WasmColumnsFilter)
    new.configure({"field": FIELD, "value": VALUE})
    instance = new.instance
    world: Any = instance.call(lambda w: w)
    new._instance = Inline(world, "json_filter")  # type: ignore[assignment]
    print(
        "| value | byte ABI rec/s | 0.1 typed rec/s | 0.2 call rec/s | 0.2 adapter rec/s"
        " | native rec/s | 0.2 call ÷ byte ABI time | adapter ÷ byte ABI time"
        " | 0.2 adapter ÷ 0.1 speed-up |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    n = 1024
    for size in (64, 1024):
        recs = anchor_values(size, n)
        values = [r.value for r in recs]
        batch = from_values(pa.array(values, pa.binary()))
        wb = to_wit_batch(batch)
        want = json_loads_loop(values, FIELD, VALUE)
        assert new.filter_columns(batch).keep.to_pylist() == want
        assert [o.value for o in old.filter_batch(recs)] == want
        t_abi, t_old, t_call, t_new, t_native = interleaved(
            [
                lambda v=values: anchor.decide(v),  # type: ignore[misc]
                lambda r=recs: old.filter_batch(r),  # type: ignore[misc]
                lambda b=wb: world.filter_batch(b),  # type: ignore[misc]
                lambda b=batch: new.filter_columns(b),  # type: ignore[misc]
                lambda v=values: json_loads_loop(v, FIELD, VALUE),  # type: ignore[misc]
            ],
            args.repeats,
        )
        label = f"{size} B" if size < 1024 else f"{size // 1024} KiB"
        print(
            f"| {label} | {n / t_abi:,.0f} | {n / t_old:,.0f} | {n / t_call:,.0f}"
            f" | {n / t_new:,.0f} | {n / t_native:,.0f} | {t_call / t_abi:.2f}"
            f" | {t_new / t_abi:.2f} | {t_old / t_new:.1f}x |"
        )
    old_inst.close()
    instance.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
