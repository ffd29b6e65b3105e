"""What the operator sees: live progress, the final summary table, stage-tagged logs.

Nothing here touches a plugin; the renderers only read `RunStats`. A run
that ends only when stopped (`RunStats.unbounded`: a followed file, a polled
table) has no end to count towards: its progress shows the records/s of the
last few seconds, per stage and in all, redrawn even while nothing arrives.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Mapping
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dataflare.pipeline.stats import RunStats, StageStats

__all__ = ["Progress", "RateMeter", "StageLogHandler", "summary_table"]

RATE_WINDOW = 5.0
"""Seconds of history a current rate is measured over."""


def summary_table(
    stats: RunStats, title: str | None = None, rates: Mapping[str, float] | None = None
) -> Table:
    """One row per stage (in, out, dropped, errors with trapped calls) and a footer.

    With `rates` (stage id -> records/s now) a column shows them.
    """
    if stats.interrupted:
        state = "stopped" if stats.unbounded else "interrupted"
    else:
        state = "done" if stats.finished else "running"
    table = Table(
        title=title,
        caption=f"{state}: {stats.records_read} records read in {stats.elapsed:.2f}s "
        f"({stats.rate:,.0f} records/s)",
    )
    table.add_column("stage")
    table.add_column("kind")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    table.add_column("dropped", justify="right")
    table.add_column("errors", justify="right")
    if rates is not None:
        table.add_column("records/s", justify="right")
    for s in stats.stages.values():
        kind = s.kind if s.role != "dead-letter sink" else "sink (dead letters)"
        records_in = "" if s.role == "source" else f"{s.records_in:,}"
        errors = f"{s.errors:,}" + (f" ({s.traps:,} traps)" if s.traps else "")
        row = [s.id, kind, records_in, f"{s.records_out:,}", f"{s.dropped:,}", errors]
        if rates is not None:
            row.append(f"{rates.get(s.id, 0.0):,.0f}")
        table.add_row(*row)
    return table


class RateMeter:
    """Records/s over the last `window` seconds, from samples of a count that only grows."""

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, count: int) -> float:
        """Record `count` at `now`; the rate since the oldest sample in the window."""
        samples = self._samples
        samples.append((now, count))
        while len(samples) > 2 and now - samples[1][0] >= self.window:
            samples.popleft()
        then, before = samples[0]
        return (count - before) / (now - then) if now > then else 0.0


def _work(stage: StageStats) -> int:
    """What a stage's rate counts: records read for a source, records taken for the rest."""
    return stage.records_out if stage.role == "source" else stage.records_in


class Progress:
    """Live per-stage counts and records/s, redrawn at most a few times a second.

    Use as a context manager around the run and pass `update` as the
    executor's `on_batch`. It draws only when `enabled`; the caller decides
    that (a terminal, and not ``--quiet``).
    """

    def __init__(self, stats: RunStats, console: Console, *, enabled: bool) -> None:
        self.stats = stats
        self.enabled = enabled
        self._last = 0.0
        self._meters = {stage: RateMeter() for stage in [*stats.stages, ""]}
        self._live: Live | None = None
        if enabled and stats.unbounded:
            # drawn on every refresh, so the rates fall to 0 while nothing arrives
            self._live = Live(
                console=console, refresh_per_second=4, transient=True, get_renderable=self.render
            )
        elif enabled:
            self._live = Live(self.render(), console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)

    def update(self, stats: RunStats) -> None:
        """Refresh the display (throttled: building a table per batch would cost too much)."""
        if self._live is None or self.stats.unbounded:
            return
        now = time.monotonic()
        if now - self._last >= 0.2:
            self._last = now
            self._live.update(self.render())

    def render(self) -> Group:
        """What the display shows now."""
        if self.stats.unbounded:
            return self._render_rates()
        head = Text(
            f"{self.stats.records_read:,} records read, {self.stats.rate:,.0f} records/s, "
            f"{self.stats.elapsed:.1f}s",
            style="bold",
        )
        return Group(head, summary_table(self.stats))

    def _render_rates(self) -> Group:
        now = time.monotonic()
        stats = self.stats
        rates = {
            s.id: self._meters[s.id].sample(now, _work(s))
            for s in stats.stages.values()
            if s.id in self._meters
        }
        rate = self._meters[""].sample(now, stats.records_read)
        head = Text(
            f"running until stopped: {rate:,.0f} records/s now ({stats.rate:,.0f} on average), "
            f"{stats.records_read:,} records read in {stats.elapsed:,.0f}s",
            style="bold",
        )
        return Group(head, summary_table(stats, rates=rates))


class StageLogHandler(logging.Handler):
    """Writes log lines to the current `sys.stderr`, tagged ``[stage]`` when known.

    WASM plugins log through logger ``dataflare.plugin.<name>`` with a
    ``stage`` attribute set by the runtime; the tag makes each line say which
    stage of the pipeline spoke. `sys.stderr` is looked up per line so a live
    display that redirects it keeps the lines readable.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        """Format and write one line."""
        try:
            stage = getattr(record, "stage", None)
            tag = f"[{stage}] " if stage else ""
            line = f"{record.levelname.lower()}: {tag}{record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                line += f" ({record.exc_info[1]})"
            stream = self._stream or sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)
