"""A real server for the tests that need one (PostgreSQL, Redis), owned by the test session.

With the server's environment variable set (`DATAFLARE_PG_DSN`,
`DATAFLARE_REDIS_URL`), the tests use that server and leave it alone.
Otherwise the first test that asks starts a throwaway one with its
`.ci/start-*.sh` script in a fresh temporary folder, and the session stops it
and deletes the folder at the end (`stop`): a test run installs nothing and
leaves no server behind. The server itself must be installed (`.ci/run` does
it); when it is not, the tests that need it skip on a laptop with the install
command and fail in CI.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from support.markers import require
from support.tools import missing

_SCRIPTS = Path(__file__).resolve().parents[2] / ".ci"


class ThrowawayServer:
    """One kind of server: how to start, reach and stop it; at most one per session."""

    def __init__(
        self,
        name: str,
        script: str,
        address_variable: str,
        dir_variable: str,
        marker: str,
        reach: Callable[[str], None],
    ) -> None:
        self.name, self.script, self.marker = name, script, marker
        self.address_variable, self.dir_variable = address_variable, dir_variable
        self.reach = reach  # raises when the server at an address does not answer
        self._owned_dir: str | None = None

    def address(self) -> str:
        """The address in the environment, else of a server this session starts (and stops)."""
        require(self.marker, f"uses {self.name}")
        address = os.environ.get(self.address_variable)
        if not address:
            folder = tempfile.mkdtemp(prefix=f"dataflare-{self.script}-")
            proc = self._script("start", folder)
            found = re.search(rf"{self.address_variable}='([^']+)'", proc.stdout)
            if proc.returncode != 0 or not found:
                self._script("stop", folder)
                missing(f"{self.name} could not be started: {proc.stderr.strip()[-300:]}")
                raise AssertionError("unreachable")
            self._owned_dir = folder
            address = found.group(1)
            # Subprocesses the tests start (dataflare run) find the server the same way.
            os.environ[self.address_variable] = address
        try:
            self.reach(address)
        except Exception as exc:  # each client library has its own error tree
            missing(
                f"{self.name} at {address} is not reachable ({exc}); run .ci/start-{self.script}.sh"
            )
        return address

    def stop(self) -> None:
        """Stop the server `address` started, if it started one."""
        if self._owned_dir is None:
            return
        folder, self._owned_dir = self._owned_dir, None
        os.environ.pop(self.address_variable, None)
        self._script("stop", folder)

    def _script(self, verb: str, folder: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(_SCRIPTS / f"{verb}-{self.script}.sh")],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, self.dir_variable: folder},
        )
