"""Per-stage counters, shared by the executor (writes) and the renderers (read).

What each counter means, by kind:

========== ============ ============== ================= ==============
kind       in           out            dropped           errors
========== ============ ============== ================= ==============
source     -            records read   -                 -
filter     records seen records kept   records filtered  failed records
transform  records seen records made   -                 failed records
aggregate  records seen records emitted -                failed records
sink       records sent records written -                failed records
========== ============ ============== ================= ==============

A failed record is counted in ``errors`` whatever the policy did with it
(skipped, or sent to a dead-letter sink); one that failed on a limit is also
counted in ``limits``. `RunStats.batches` times each source batch from the
moment it is taken until every sink has it, for the ``/metrics`` histogram.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field

__all__ = ["BATCH_BUCKETS", "BatchTimes", "RunStats", "StageStats"]

BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the batch latency histogram's buckets; +Inf follows."""


@dataclass(slots=True)
class StageStats:
    """Counters of one stage."""

    id: str
    kind: str
    role: str
    records_in: int = 0
    records_out: int = 0
    dropped: int = 0
    errors: int = 0
    traps: int = 0
    """Guest calls that trapped (poison-record bisection tries included)."""
    limits: int = 0
    """Records that failed on a limit (fuel, memory, time, record size)."""


@dataclass(slots=True)
class BatchTimes:
    """A histogram of batch latencies: counts per `BATCH_BUCKETS` bound (not cumulative)."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(BATCH_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        """Count one batch that took `seconds`."""
        self.counts[bisect.bisect_left(BATCH_BUCKETS, seconds)] += 1
        self.total += seconds


@dataclass(slots=True)
class RunStats:
    """Counters of every stage, in pipeline order, and the run's clock."""

    stages: dict[str, StageStats] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    interrupted: bool = False
    batches: BatchTimes = field(default_factory=BatchTimes)
    unbounded: bool = False
    """Some source ends only when the run is stopped: a stop is how the run ends."""

    def add(self, stage_id: str, kind: str, role: str) -> StageStats:
        """Register a stage; the order of calls is the display order."""
        stats = StageStats(stage_id, kind, role)
        self.stages[stage_id] = stats
        return stats

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (until it finished)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    @property
    def records_read(self) -> int:
        """Records read by every source together."""
        return sum(s.records_out for s in self.stages.values() if s.role == "source")

    @property
    def rate(self) -> float:
        """Records read per second so far."""
        elapsed = self.elapsed
        return self.records_read / elapsed if elapsed > 0 else 0.0
