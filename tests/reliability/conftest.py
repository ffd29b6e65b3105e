"""Fixtures for the reliability tests: a real PostgreSQL server."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """A DSN of a real PostgreSQL server (DATAFLARE_PG_DSN, or one started by the CI script)."""
    dsn = os.environ.get("DATAFLARE_PG_DSN")
    if not dsn:
        proc = subprocess.run(
            ["bash", str(ROOT / ".ci" / "start-postgres.sh")],
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(r"DATAFLARE_PG_DSN='([^']+)'", proc.stdout)
        if proc.returncode != 0 or not found:
            missing(f"PostgreSQL not available; run .ci/start-postgres.sh ({proc.stderr[-300:]})")
            raise AssertionError("unreachable")
        dsn = found.group(1)
        os.environ["DATAFLARE_PG_DSN"] = dsn
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.Error as exc:
        missing(f"PostgreSQL at {dsn} is not reachable ({exc}); run .ci/start-postgres.sh")
    return dsn
