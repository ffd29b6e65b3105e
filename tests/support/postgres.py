"""A real PostgreSQL server for the tests that need one."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]


def postgres_dsn() -> str:
    """The DSN in DATAFLARE_PG_DSN, else of a server started by `.ci/start-postgres.sh`.

    Skips on a laptop and fails in CI when no server can be had.
    """
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
                "PostgreSQL not available; run .ci/start-postgres.sh "
                f"({proc.stderr.strip()[-300:]})"
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
