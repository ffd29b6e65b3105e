"""Fixtures for the connector tests: fresh table names (`pg_dsn` is in tests/conftest.py)."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def table_name() -> str:
    """A table name no other test uses."""
    return f"t_{uuid.uuid4().hex[:12]}"
