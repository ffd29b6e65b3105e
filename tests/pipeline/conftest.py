# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""Fixtures for the pipeline tests: test plugins, a pipeline-file writer, PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import dfpipe_plugins
import pytest
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_test_plugins() -> Iterator[None]:
    dfpipe_plugins.EVENTS.clear()
    dfpipe_plugins.LogSink.RECEIVED.clear()
    yield


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str], Path]:
    """Write a dedented pipeline file into tmp_path and return its path."""

    def write(text: str, name: str = "pipeline.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


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
            missing(
                f"PostgreSQL not available; run .ci/start-postgres.sh ({proc.stderr.strip()[-300:]})"
            )
            raise AssertionError("unreachable")
        dsn = found.group(1)
        os.environ["DATAFLARE_PG_DSN"] = dsn
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.Error as exc:
        missing(f"PostgreSQL at {dsn} is not reachable ({exc}); run .ci/start-postgres.sh")
    return dsn
