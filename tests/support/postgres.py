"""A real PostgreSQL server for the tests that need one, owned by the test session.

With `DATAFLARE_PG_DSN` set, the tests use that server and leave it alone.
Otherwise the first test that asks starts a throwaway cluster with
`.ci/start-postgres.sh` in a fresh temporary folder, and the session stops
it and deletes the folder at the end (`stop_owned_server`): a test run
installs nothing and leaves no server behind. PostgreSQL itself must be
installed (`.ci/run` does it); when it is not, the tests that need it skip
on a laptop with the install command and fail in CI.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from support.markers import require
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]
_SCRIPTS = ROOT / ".ci"

_owned_dir: str | None = None


def postgres_dsn() -> str:
    """The DSN in DATAFLARE_PG_DSN, else of a cluster this session starts (and stops)."""
    global _owned_dir
    require("postgres", "uses PostgreSQL")
    dsn = os.environ.get("DATAFLARE_PG_DSN")
    if not dsn:
        folder = tempfile.mkdtemp(prefix="dataflare-pg-")
        proc = subprocess.run(
            ["bash", str(_SCRIPTS / "start-postgres.sh")],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "DATAFLARE_PG_DIR": folder},
        )
        found = re.search(r"DATAFLARE_PG_DSN='([^']+)'", proc.stdout)
        if proc.returncode != 0 or not found:
            _stop(folder)
            missing(f"PostgreSQL could not be started: {proc.stderr.strip()[-300:]}")
            raise AssertionError("unreachable")
        _owned_dir = folder
        dsn = found.group(1)
        # Subprocesses the tests start (dataflare run) find the server the same way.
        os.environ["DATAFLARE_PG_DSN"] = dsn
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.Error as exc:
        missing(f"PostgreSQL at {dsn} is not reachable ({exc}); run .ci/start-postgres.sh")
    return dsn


def stop_owned_server() -> None:
    """Stop the cluster `postgres_dsn` started, if it started one."""
    global _owned_dir
    if _owned_dir is None:
        return
    folder, _owned_dir = _owned_dir, None
    os.environ.pop("DATAFLARE_PG_DSN", None)
    _stop(folder)


def _stop(folder: str) -> None:
    subprocess.run(
        ["bash", str(_SCRIPTS / "stop-postgres.sh")],
        capture_output=True,
        check=False,
        env={**os.environ, "DATAFLARE_PG_DIR": folder},
    )
