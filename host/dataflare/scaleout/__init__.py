"""Running a pipeline on Dask distributed: the same YAML, one task per source partition.

`coordinator` plans and combines, `tasks` is what a worker runs (the local
executor over a derived pipeline, `derive`). Needs the ``dataflare[dask]``
extra; nothing here is imported by the local engine.
"""

from dataflare.scaleout.coordinator import (
    DaskPlan,
    DaskSummary,
    dask_client,
    plan_for_dask,
    run_on_dask,
)

__all__ = ["DaskPlan", "DaskSummary", "dask_client", "plan_for_dask", "run_on_dask"]
