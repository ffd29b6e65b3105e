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

`Isolator.run` works on lists of records; `Isolator.run_parts` on any batch
that `Parts` can cut and whose outcomes it can join, e.g. an Arrow batch cut
with zero-copy slices (`dataflare.pipeline.stage_calls`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from dataflare.errors import GuestTrap, LimitExceeded, PluginError, PluginStopped

__all__ = ["MAX_CONSECUTIVE_TRAPS", "Isolator", "ListParts", "Parts"]

T = TypeVar("T")
R = TypeVar("R")
B = TypeVar("B")
O = TypeVar("O")  # noqa: E741 - outcome type

MAX_CONSECUTIVE_TRAPS = 8
"""Trapping records in a row after which a stage is stopped."""

_log = logging.getLogger("dataflare.pipeline")


class Parts(Protocol[B, O]):
    """How to cut a batch of type B and join the outcomes (O) of its parts."""

    def size(self, batch: B) -> int:
        """Records in `batch`."""
        ...

    def cut(self, batch: B, start: int, stop: int) -> B:
        """Records start..stop of `batch`."""
        ...

    def join(self, outcomes: list[O], sizes: list[int]) -> O:
        """The outcome of a batch made of parts with these outcomes and sizes, in order."""
        ...

    def failed(self, batch: B, error: PluginError | GuestTrap) -> O:
        """The outcome of `batch` when every record of it failed with `error`."""
        ...


class ListParts(Generic[R, T]):
    """`Parts` of a list of records whose outcome is a list with one entry per record."""

    def size(self, batch: list[R]) -> int:
        """Records in `batch`."""
        return len(batch)

    def cut(self, batch: list[R], start: int, stop: int) -> list[R]:
        """A sub-list."""
        return batch[start:stop]

    def join(
        self, outcomes: list[list[T | PluginError | GuestTrap]], sizes: list[int]
    ) -> list[T | PluginError | GuestTrap]:
        """The lists one after another."""
        return [outcome for part in outcomes for outcome in part]

    def failed(
        self, batch: list[R], error: PluginError | GuestTrap
    ) -> list[T | PluginError | GuestTrap]:
        """`error` for every record."""
        return [error] * len(batch)


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

        `call` must return one outcome per record (the caller checks counts).
        """

        def listed(batch: list[R]) -> list[T | PluginError | GuestTrap]:
            return list(call(batch))

        return self.run_parts(list(records), listed, ListParts[R, T]())

    def run_parts(self, batch: B, call: Callable[[B], O], parts: Parts[B, O]) -> O:
        """`call(batch)`, or on a trap the outcomes of its parts joined (see the module doc)."""
        try:
            outcome = call(batch)
        except PluginError as exc:
            self._streak = 0
            return parts.failed(batch, exc)
        except GuestTrap as exc:
            self.traps += 1
            size = parts.size(batch)
            if size == 1:
                self.poison += 1
                self._streak += 1
                _log.warning("poison record isolated: %s", exc, extra={"stage": self.stage})
                if self._streak >= self.max_consecutive:
                    raise PluginStopped(
                        self.stage, self._streak, exc, limit=self.max_consecutive
                    ) from exc
                return parts.failed(batch, exc)
            if isinstance(exc, LimitExceeded):
                # A limit (time, fuel, memory) costs its whole budget at every
                # bisection level; one record at a time costs it once.
                _log.info(
                    "batch of %d hit a limit; retrying record by record: %s",
                    size,
                    exc,
                    extra={"stage": self.stage},
                )
                bounds = [(i, i + 1) for i in range(size)]
            else:
                _log.info(
                    "batch of %d trapped; retrying by halves to find the record: %s",
                    size,
                    exc,
                    extra={"stage": self.stage},
                )
                half = size // 2
                bounds = [(0, half), (half, size)]
            outcomes = [
                self.run_parts(parts.cut(batch, start, stop), call, parts) for start, stop in bounds
            ]
            return parts.join(outcomes, [stop - start for start, stop in bounds])
        self._streak = 0
        return outcome
