"""Suite-wide pytest configuration."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from support.postgres import postgres_dsn, stop_owned_server

# Guest calls cost tens of microseconds and a fresh instance about a
# millisecond, so hypothesis' default deadline would flake on a busy 2-core
# machine; correctness, not speed, is what tests assert here.
settings.register_profile(
    "dataflare",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("ci", parent=settings.get_profile("dataflare"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dataflare")


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A DSN of a real PostgreSQL server; one this session started is stopped at its end."""
    try:
        yield postgres_dsn()
    finally:
        stop_owned_server()
