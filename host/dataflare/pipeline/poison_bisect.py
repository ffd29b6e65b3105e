"""Poison-record isolation: find the records that make a batch call trap.

A trap kills the guest instance, and the whole batch call with it, so one bad
record would otherwise fail every record it travels with. `Isolator.run`
retries a trapped batch by halves (the runtime has already replaced the
instance, so each try starts on a fresh one) until every trapping record is
alone; a batch stopped by a limit (time, fuel, memory) is retried record by
record instead, because every bisection level would spend the whole budget
again; only those get the trap as their outcome, and the rest get the
outcome the plugin gave them.

A plugin that traps on everything must not be bisected for ever: after
`max_consecutive` trapping records in a row (with no successful call in
between) the stage is stopped with `PluginStopped`, whatever its `on_error`.

A `PluginError` for the whole call is not bisected: the plugin answered on
purpose, and every record of the call gets it. Trying halves re-runs records
through the plugin; for a sink that trapped half-way, records before the trap
may be written twice (sinks are at least once across traps).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from dataflare.errors import GuestTrap, LimitExceeded, PluginError, PluginStopped

__all__ = ["MAX_CONSECUTIVE_TRAPS", "Isolator"]

T = TypeVar("T")
R = TypeVar("R")

MAX_CONSECUTIVE_TRAPS = 8
"""Trapping records in a row after which a stage is stopped."""

_log = logging.getLogger("dataflare.pipeline")


class Isolator:
    """Bisects trapping batches for one stage and counts its traps."""

    def __init__(self, stage: str, max_consecutive: int = MAX_CONSECUTIVE_TRAPS) -> None:
        self.stage = stage
        self.max_consecutive = max_consecutive
        self.traps = 0
        """Every trapped call, bisection tries included."""
        self.poison = 0
        """Records found to trap on their own."""
        self._streak = 0

    def run(
        self, records: Sequence[R], call: Callable[[list[R]], Sequence[T]]
    ) -> list[T | PluginError | GuestTrap]:
        """One outcome per record; raises `PluginStopped` when the plugin traps on everything.

        `call` must return one outcome per record (the caller checks counts
        of the top-level call; sub-batches are checked here).
        """
        batch = list(records)
        try:
            outcomes: list[T | PluginError | GuestTrap] = list(call(batch))
        except PluginError as exc:
            self._streak = 0
            return [exc] * len(batch)
        except GuestTrap as exc:
            self.traps += 1
            if len(batch) == 1:
                self.poison += 1
                self._streak += 1
                _log.warning("poison record isolated: %s", exc, extra={"stage": self.stage})
                if self._streak >= self.max_consecutive:
                    raise PluginStopped(
                        self.stage, self._streak, exc, limit=self.max_consecutive
                    ) from exc
                return [exc]
            if isinstance(exc, LimitExceeded):
                # A limit (time, fuel, memory) costs its whole budget at every
                # bisection level; one record at a time costs it once.
                _log.info(
                    "batch of %d hit a limit; retrying record by record: %s",
                    len(batch),
                    exc,
                    extra={"stage": self.stage},
                )
                out: list[T | PluginError | GuestTrap] = []
                for record in batch:
                    out += self.run([record], call)
                return out
            _log.info(
                "batch of %d trapped; retrying by halves to find the record: %s",
                len(batch),
                exc,
                extra={"stage": self.stage},
            )
            half = len(batch) // 2
            return self.run(batch[:half], call) + self.run(batch[half:], call)
        self._streak = 0
        return outcomes
