"""The session's redis-server (see `support.servers`), and a steady-rate stream producer.

`produce` is the steady-rate producer the streaming tests share.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from support.servers import ThrowawayServer


def _reach(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=5).ping()


SERVER = ThrowawayServer(
    "redis-server", "redis", "DATAFLARE_REDIS_URL", "DATAFLARE_REDIS_DIR", "redis", _reach
)
redis_url = SERVER.address
stop_owned_server = SERVER.stop


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
