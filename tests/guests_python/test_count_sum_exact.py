"""count_sum's exact sums (guest-examples/python/count_sum/app.py), run on the host.

The guest keeps a sum as a whole number of 2**-1074 and stores it as doubles
whose exact total it is; these properties pin that down against `fractions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

finite = st.floats(allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="session")
def app(guest_import: Callable[[str], ModuleType]) -> ModuleType:
    return guest_import("count_sum.app")


@given(finite)
def test_units_are_exact(app: ModuleType, x: float) -> None:
    assert Fraction(app.units(x), 2**1074) == Fraction(x)


@given(st.lists(finite, max_size=30))
def test_parts_total_the_sum_and_emit_rounds_it_once(app: ModuleType, xs: list[float]) -> None:
    exact = sum(app.units(x) for x in xs)
    if abs(exact) >= app._OVERFLOW:
        with pytest.raises(OverflowError):
            float(Fraction(exact, 2**1074))
        return
    parts = app.parts(exact)
    assert sum(Fraction(p) for p in parts) == sum(Fraction(x) for x in xs)
    assert all(math.isfinite(p) and p != 0 for p in parts)
    assert [abs(p) for p in parts] == sorted((abs(p) for p in parts), reverse=True)
    assert app.nearest(exact) == float(sum(Fraction(x) for x in xs))
    if parts:
        assert parts[0] == app.nearest(exact)


def test_the_overflow_bound_is_where_rounding_reaches_infinity(app: ModuleType) -> None:
    largest = app.units(1.7976931348623157e308)
    half_step = app.units(2.0**970)
    assert app.nearest(largest + half_step - 1) == 1.7976931348623157e308
    assert largest + half_step == app._OVERFLOW
    with pytest.raises(OverflowError):
        app.nearest(app._OVERFLOW)
