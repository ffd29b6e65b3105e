"""Suite-wide pytest configuration."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support import markers
from support.postgres import postgres_dsn, stop_owned_server
from support.redis import redis_url
from support.redis import stop_owned_server as stop_owned_redis

TESTS = Path(__file__).resolve().parent

# Markers (declared in pyproject.toml) set here by folder or by fixture, so a
# new test in these places is marked without remembering to. A test that
# builds a guest some other way is marked where it is written; support.markers
# fails any test that builds a guest or reaches PostgreSQL without its marker.
_GUEST_FOLDERS = frozenset({"guests_all", "guests_js", "guests_python", "guests_rust"})
_GUEST_FIXTURES = frozenset(
    {
        "roundtrip_component",  # bindgen, perf_equivalence: componentize-py
        "guest_path",  # guests_python: guest-examples/python
        "probe",  # runtime: componentize-py probe filter
        "hostile_wasm",  # sandbox: componentize-py hostile transform
        "broken_corpus",  # conformance: the broken guests
    }
)

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `guests` by folder or fixture, `postgres` and `redis` by their server fixtures."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))  # with the fixtures they depend on
        folder = item.path.relative_to(TESTS).parts[0]
        if folder in _GUEST_FOLDERS or used & _GUEST_FIXTURES:
            item.add_marker(pytest.mark.guests)
        if "pg_dsn" in used:
            item.add_marker(pytest.mark.postgres)
        if "redis_server" in used:
            item.add_marker(pytest.mark.redis)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Let support.markers see the running test's markers (fixtures included)."""
    markers.enter(item.nodeid, frozenset(mark.name for mark in item.iter_markers()))
    try:
        return (yield)
    finally:
        markers.leave()


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A DSN of a real PostgreSQL server; one this session started is stopped at its end."""
    try:
        yield postgres_dsn()
    finally:
        stop_owned_server()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a real redis-server; one this session started is stopped at its end."""
    try:
        yield redis_url()
    finally:
        stop_owned_redis()
