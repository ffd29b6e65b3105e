"""count_sum's exact sums (guest-examples/python/count_sum/app.py), run on the host.

The guest keeps each sum as Shewchuk partials with the host's own steps
(`dataflare.builtin._exact_sum`), so accumulators are the same bytes; these
properties pin that down, with `math.fsum` and `fractions` as oracles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from types import ModuleType

import pytest
from dataflare.builtin import _exact_sum as host
from hypothesis import given
from hypothesis import strategies as st

finite = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(finite, st.sampled_from([0.1, 0.2, 0.3, 1e16, -1e16, 5e-324, -0.0]))


@pytest.fixture(scope="session")
def app(guest_import: Callable[[str], ModuleType]) -> ModuleType:
    return guest_import("count_sum.app")


@given(st.lists(numbers, max_size=30))
def test_partials_are_the_hosts_and_round_as_fsum(app: ModuleType, xs: list[float]) -> None:
    mine: list[float] = []
    theirs: list[float] = []
    for x in xs:
        assert app.add_exact(mine, x) == host.add_exact(theirs, x)
        assert [p.hex() for p in mine] == [p.hex() for p in theirs]
    assert app.round_exact(mine).hex() == host.round_exact(theirs).hex()
    if all(math.isfinite(p) for p in mine) and math.isfinite(app.round_exact(mine)):
        assert sum(map(Fraction, mine), Fraction(0)) == sum(map(Fraction, xs), Fraction(0))
        assert app.round_exact(mine) == math.fsum(xs)
