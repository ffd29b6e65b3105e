"""Find the smallest input that shows a failure, reproducibly.

`smallest_failure` runs `hypothesis.find` under a fixed settings object
(`examples` tries, no example database, no deadline) and a seeded
`random.Random`, so a run is repeatable from `--seed`. A property whose
failure does not reproduce (a nondeterministic plugin) can make hypothesis
give up shrinking; the last failing input seen is reported then.

With few examples hypothesis also shrinks little (its shrink budget scales
with `max_examples`), so a greedy pass then drops list items one at a time
while the failure persists: cheap, and it is what makes a report read
"this one record" instead of "these three".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, NoSuchExample

__all__ = ["smallest_failure"]

T = TypeVar("T")


def smallest_failure(
    strategy: st.SearchStrategy[T],
    why_failing: Callable[[T], str | None],
    *,
    seed: int,
    examples: int,
) -> tuple[T, str] | None:
    """The smallest drawn value for which `why_failing` gives a reason, with that reason."""
    last: list[tuple[T, str]] = []

    def failing(value: T) -> bool:
        why = why_failing(value)
        if why is not None:
            last.append((value, why))
            del last[:-1]
        return why is not None

    config = settings(
        max_examples=max(1, examples),
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    try:
        found = find(strategy, failing, settings=config, random=random.Random(seed))
    except NoSuchExample:
        return None
    except (HypothesisException, AssertionError):
        # Shrinking met a failure that did not repeat; the last one seen stands.
        return last[-1] if last else None
    why = why_failing(found)
    if why is None:
        return last[-1] if last else None
    return _drop_items(found, why, why_failing)


def _drop_items(value: T, why: str, why_failing: Callable[[T], str | None]) -> tuple[T, str]:
    """Remove list items (of `value`, or of its first element) while it still fails."""
    current: Any = value
    nested = isinstance(current, tuple) and bool(current) and isinstance(current[0], list)
    if not (isinstance(current, list) or nested):
        return value, why
    index = 0
    while index < len(current[0] if nested else current):
        items: list[Any] = current[0] if nested else current
        fewer = items[:index] + items[index + 1 :]
        candidate: Any = (fewer, *current[1:]) if nested else fewer
        reason = why_failing(candidate)
        if reason is None:
            index += 1
        else:
            current, why = candidate, reason
    result: T = current
    return result, why
