"""What a guest's own batch call costs, for (c)'s bound on a pipeline's speed-up.

The bare generated 0.2 batch call (the bindings the adapters use, `wit_utf8`)
on one batch of a pipeline's records, under a stage's default limits (fuel
metered, epoch deadline armed, as (c) runs them), in CPU time (every thread
of this process), best of a few: the guest's work plus the crossing, none of
the host's pipeline. A pipeline cannot run faster than its host floor (the same
JSON Lines in and out with no stage) plus this.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dataflare import PluginKind, Record, columns
from dataflare.abi import rt
from dataflare.pipeline.stage_limits import DEFAULT_LIMITS
from dataflare.plugins import wit_utf8
from dataflare.plugins.wit_columns import to_wit_batch
from dataflare.runtime import load_component
from dataflare.runtime.instance import PluginInstance


def cpu_per_record(
    path: Path, kind: PluginKind, config: dict[str, str], values: list[bytes], repeats: int = 8
) -> float:
    """CPU seconds per record of the bare 0.2 batch call of `path` on `values` (one batch)."""
    loaded = load_component(path, kind, engine_config=DEFAULT_LIMITS.engine_config())
    world_type: Any = wit_utf8.Filter if kind is PluginKind.FILTER else wit_utf8.Transform
    inst: PluginInstance[Any] = PluginInstance(
        loaded, world_type, limits=DEFAULT_LIMITS.runtime_limits()
    )
    fuel = DEFAULT_LIMITS.batch_fuel(len(values))
    try:
        world: Any = inst.call(lambda w: w)
        assert isinstance(world.configure(list(config.items())), rt.Ok)
        batch = to_wit_batch(columns.from_records([Record(v) for v in values]))
        run: Callable[[Any], Any] = (
            (lambda w: w.filter_batch(batch))
            if kind is PluginKind.FILTER
            else (lambda w: w.transform_batch(batch))
        )

        def call() -> Any:
            return inst.call(run, fuel=fuel)

        assert not call().errors
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            call()
            best = min(best, time.process_time() - start)
        return best / len(values)
    finally:
        inst.close()
