"""A Dask LocalCluster of two worker processes, shared by the engine tests of a session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.tools import missing


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """A client of `LocalCluster(processes=True, n_workers=2)`, as CI runs the engine."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        missing("Dask is not installed: pip install -e '.[dask]'")
        raise AssertionError("unreachable") from None
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
