"""Exact sums of doubles as Shewchuk non-overlapping partials.

The `msum` recipe behind `math.fsum`, step for step as the Rust guest SDK's
count_sum does it (`add_exact`, `round_exact`), so the partials, and hence the
accumulators that hold them, are the same bytes in every language. `math.fsum`
gives the same rounded sum but keeps its partials to itself, and count_sum
must store them to merge exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["add_exact", "round_exact"]


def add_exact(partials: list[float], x: float) -> bool:
    """Add `x` to the exact sum held in `partials` (in place); False if a partial overflowed.

    `partials` stay non-overlapping, smallest magnitude first; a zero can only be the last.
    """
    kept = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            partials[kept] = lo
            kept += 1
        x = hi
    del partials[kept:]
    partials.append(x)
    return all(math.isfinite(p) for p in partials)


def round_exact(partials: Sequence[float]) -> float:
    """The exact sum of `partials` correctly rounded (ties to even), as `math.fsum` ends."""
    n = len(partials)
    if n == 0:
        return 0.0
    n -= 1
    hi = partials[n]
    lo = 0.0
    while n > 0:
        x = hi
        n -= 1
        y = partials[n]
        hi = x + y
        yr = hi - x
        lo = y - yr
        if lo != 0.0:
            break
    # Half-way cases: the dropped partials below decide which way to round.
    if n > 0 and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
        y = lo * 2.0
        x = hi + y
        yr = x - hi
        if y == yr:
            hi = x
    return hi
