"""A real redis-server for the tests that need one, owned by the test session.

With `DATAFLARE_REDIS_URL` set, the tests use that server and leave it alone
(each test uses stream names no other test uses). Otherwise the first test
that asks starts a throwaway server with `.ci/start-redis.sh` in a fresh
temporary folder, and the session stops it and deletes the folder at the end
(`stop_owned_server`). redis-server itself must be installed (`.ci/run` does
it); when it is not, the tests that need it skip on a laptop with the install
command and fail in CI.

`produce` is the steady-rate producer the streaming tests share.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from support.markers import require
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]
_SCRIPTS = ROOT / ".ci"

_owned_dir: str | None = None


def redis_url() -> str:
    """The URL in DATAFLARE_REDIS_URL, else of a server this session starts (and stops)."""
    global _owned_dir
    require("redis", "uses redis-server")
    url = os.environ.get("DATAFLARE_REDIS_URL")
    if not url:
        folder = tempfile.mkdtemp(prefix="dataflare-redis-")
        proc = subprocess.run(
            ["bash", str(_SCRIPTS / "start-redis.sh")],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "DATAFLARE_REDIS_DIR": folder},
        )
        found = re.search(r"DATAFLARE_REDIS_URL='([^']+)'", proc.stdout)
        if proc.returncode != 0 or not found:
            _stop(folder)
            missing(f"redis-server could not be started: {proc.stderr.strip()[-300:]}")
            raise AssertionError("unreachable")
        _owned_dir = folder
        url = found.group(1)
        # Subprocesses the tests start (dataflare run) find the server the same way.
        os.environ["DATAFLARE_REDIS_URL"] = url
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        missing(f"redis-server at {url} is not reachable ({exc}); run .ci/start-redis.sh")
    return url


def stop_owned_server() -> None:
    """Stop the server `redis_url` started, if it started one."""
    global _owned_dir
    if _owned_dir is None:
        return
    folder, _owned_dir = _owned_dir, None
    os.environ.pop("DATAFLARE_REDIS_URL", None)
    _stop(folder)


def _stop(folder: str) -> None:
    subprocess.run(
        ["bash", str(_SCRIPTS / "stop-redis.sh")],
        capture_output=True,
        check=False,
        env={**os.environ, "DATAFLARE_REDIS_DIR": folder},
    )


def value_of(i: int) -> bytes:
    """The value `produce` writes as record `i`: a JSON object numbering it."""
    return b'{"n": %d}' % i


class Producer:
    """XADDs records to a stream at a steady rate on a thread; `join` waits for the last.

    Record i has the field ``value`` = `value_of(i)` (what the ``redis``
    source reads as the record's value). Records go out in chunks of
    `chunk`, each chunk when its time comes, so the rate holds on a busy
    machine without a sleep per record.
    """

    def __init__(
        self,
        url: str,
        stream: str,
        count: int,
        rate: float,
        chunk: int = 50,
        value: Callable[[int], bytes] = value_of,
    ) -> None:
        self.url, self.stream, self.count, self.rate = url, stream, count, rate
        self.chunk, self.value = chunk, value
        self.sent = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"produce {stream}", daemon=True)

    def start(self) -> Producer:
        """Start producing; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the chunk being sent."""
        self._stop.set()

    def join(self, timeout: float = 120.0) -> int:
        """Wait for the producer to finish; the number of records sent. Re-raises its error."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the producer of {self.stream!r} did not finish in {timeout}s")
        if self.error is not None:
            raise self.error
        return self.sent

    def _run(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        started = time.monotonic()
        try:
            while self.sent < self.count and not self._stop.is_set():
                due = started + self.sent / self.rate
                pause = due - time.monotonic()
                if pause > 0 and self._stop.wait(pause):
                    break
                pipe = client.pipeline(transaction=False)
                end = min(self.sent + self.chunk, self.count)
                for i in range(self.sent, end):
                    pipe.xadd(self.stream, {"value": self.value(i)})
                pipe.execute()
                self.sent = end
        except BaseException as exc:
            self.error = exc
        finally:
            client.close()


def produce(url: str, stream: str, count: int, rate: float = 5000.0, chunk: int = 50) -> Producer:
    """Start a `Producer` of `count` records at `rate` records/s into `stream`."""
    return Producer(url, stream, count, rate, chunk).start()
