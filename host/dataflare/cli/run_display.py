"""What the operator sees: live progress, the final summary table, stage-tagged logs.

Nothing here touches a plugin; the renderers only read `RunStats`.
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dataflare.pipeline.stats import RunStats

__all__ = ["Progress", "StageLogHandler", "summary_table"]


def summary_table(stats: RunStats, title: str | None = None) -> Table:
    """One row per stage (in, out, dropped, errors with trapped calls) and a footer."""
    state = "interrupted" if stats.interrupted else "done" if stats.finished else "running"
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
    for s in stats.stages.values():
        kind = s.kind if s.role != "dead-letter sink" else "sink (dead letters)"
        records_in = "" if s.role == "source" else f"{s.records_in:,}"
        errors = f"{s.errors:,}" + (f" ({s.traps:,} traps)" if s.traps else "")
        table.add_row(s.id, kind, records_in, f"{s.records_out:,}", f"{s.dropped:,}", errors)
    return table


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
        self._live = (
            Live(self._render(), console=console, refresh_per_second=4, transient=True)
            if enabled
            else None
        )

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
        if self._live is None:
            return
        now = time.monotonic()
        if now - self._last >= 0.2:
            self._last = now
            self._live.update(self._render())

    def _render(self) -> Group:
        head = Text(
            f"{self.stats.records_read:,} records read, {self.stats.rate:,.0f} records/s, "
            f"{self.stats.elapsed:.1f}s",
            style="bold",
        )
        return Group(head, summary_table(self.stats))


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
