"""count_sum's exact sums: partials, merges of any split, overflow, and the accumulator format.

The format is the Rust guest's (guest-examples/rust/count_sum); these pin
the native twin to it, against `math.fsum` and `fractions` as oracles.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from dataflare.builtin._exact_sum import add_exact, round_exact
from dataflare.builtin._json import parse_object
from dataflare.builtin.count_sum import CountSum
from dataflare.errors import ProcessingError, SerializationError
from dataflare.model import Record
from hypothesis import given
from hypothesis import strategies as st

MAX = 1.7976931348623157e308

finite = st.floats(allow_nan=False, allow_infinity=False)
# Sizes far apart and cancelling, so sums need several partials.
awkward = st.one_of(
    finite,
    st.sampled_from([0.1, 0.2, 0.3, 1e16, -1e16, 1.0, 5e-324, 1e-300, -0.0, 2.0**53]),
)


def count_sum() -> CountSum:
    plugin = CountSum()
    plugin.configure({"group_by": "g", "sum_field": "n"})
    return plugin


def rec(group: str, n: float | str) -> Record:
    number = repr(n) if isinstance(n, float) else n
    return Record(f'{{"g": "{group}", "n": {number}}}'.encode())


def exact_sums(acc: bytes) -> dict[str, tuple[float, Fraction]]:
    """{group: (count, exact sum)} as an accumulator states them."""
    out = {}
    for group, entry in parse_object(acc).items():
        partials = entry.get("partials", [entry["sum"]])
        out[group] = (entry["count"], sum((Fraction(p) for p in partials), Fraction(0)))
    return out


@given(st.lists(finite, max_size=40))
def test_partials_hold_the_exact_sum_and_round_as_fsum(xs: list[float]) -> None:
    partials: list[float] = []
    ok = all([add_exact(partials, x) for x in xs])
    if not ok or not math.isfinite(round_exact(partials)):
        with pytest.raises(OverflowError):
            math.fsum(xs)
        return
    assert sum((Fraction(p) for p in partials), Fraction(0)) == sum(
        (Fraction(x) for x in xs), Fraction(0)
    )
    assert round_exact(partials) == math.fsum(xs)
    nonzero = [abs(p) for p in partials if p != 0]
    assert nonzero == sorted(nonzero)


@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "é"]), awkward), max_size=25),
    st.lists(st.integers(0, 25), max_size=4),
)
def test_folding_any_split_then_merging_emits_what_one_fold_emits(
    pairs: list[tuple[str, float]], cuts: list[int]
) -> None:
    plugin = count_sum()
    batch = [rec(g, n) for g, n in pairs]
    whole, outcomes = plugin.aggregate_batch(plugin.init(), batch)
    if any(o is not None for o in outcomes):
        return  # an overflow skipped a record; a split may skip a different one
    merged = plugin.init()
    for start, stop in itertools.pairwise([0, *sorted(cuts), len(batch)]):
        part, _ = plugin.aggregate_batch(plugin.init(), batch[start:stop])
        merged = plugin.merge(merged, part)
    # Byte for byte through emit. The partials themselves depend on the
    # order of the additions (as in the Rust guest), but stand for the
    # same exact sums.
    assert plugin.emit(merged) == plugin.emit(whole)
    assert exact_sums(merged) == exact_sums(whole)
    if b"partials" not in whole:
        assert plugin.merge(plugin.init(), whole) == whole


@given(st.lists(awkward, max_size=20))
def test_emit_is_fsum_and_entries_without_partials_are_the_old_encoding(xs: list[float]) -> None:
    plugin = count_sum()
    acc, outcomes = plugin.aggregate_batch(plugin.init(), [rec("a", x) for x in xs])
    if any(o is not None for o in outcomes) or not xs:
        return
    (entry,) = parse_object(acc).values()
    assert entry["sum"] == math.fsum(xs)
    assert ("partials" in entry) == (len([p for p in entry.get("partials", []) if p]) > 1)
    (out,) = plugin.emit(acc)
    assert parse_object(out.value)["sum"] == math.fsum(xs)


def test_the_accumulator_is_the_rust_guests_format() -> None:
    plugin = count_sum()
    acc, _ = plugin.aggregate_batch(plugin.init(), [rec("a", 1e16), rec("a", 1.0)])
    assert acc == b'{"a":{"count":2,"partials":[1,10000000000000000],"sum":10000000000000000}}'
    plain, _ = plugin.aggregate_batch(plugin.init(), [rec("y", 2.0), rec("y", 0.5)])
    assert plain == b'{"y":{"count":2,"sum":2.5}}'
    values = ["1e16", "1", "1", "0.1", "0.2", "0.3", "-1e16", "3.5e-300", "7"]
    acc, _ = plugin.aggregate_batch(plugin.init(), [rec("x", v) for v in values])
    # 0.1 + 0.2 + 0.3 summed left to right would end in ...0000001.
    assert plugin.emit(acc) == [Record(key=b"x", value=b'{"count":9,"group":"x","sum":9.6}')]


def test_overflow_is_the_exact_sum_rounding_to_infinity() -> None:
    # MAX + 2**969 rounds back to MAX in doubles, so a sum kept as a double
    # never overflows here; the exact sum MAX + 2**970 is half way to 2**1024
    # and rounds (to even) to infinity, so the third record overflows.
    plugin = count_sum()
    batch = [rec("a", MAX), rec("a", 2.0**969), rec("a", 2.0**969)]
    acc, outcomes = plugin.aggregate_batch(plugin.init(), batch)
    assert outcomes == [None, None, ProcessingError('sum of field "n" overflows')]
    assert exact_sums(acc)["a"] == (2, Fraction(MAX) + Fraction(2.0**969))
    one, _ = plugin.aggregate_batch(plugin.init(), batch[1:2])
    with pytest.raises(ProcessingError, match='sum of field "n" overflows'):
        plugin.merge(acc, one)


@pytest.mark.parametrize(
    "acc",
    [
        b'{"x":{"count":1,"sum":1,"partials":[2]}}',
        b'{"x":{"count":1,"sum":1,"partials":1}}',
        b'{"x":{"count":1,"sum":1,"partials":["1"]}}',
        b'{"x":{"count":1,"sum":"1"}}',
    ],
)
def test_an_entry_whose_sum_is_not_its_partials_is_refused(acc: bytes) -> None:
    plugin = count_sum()
    with pytest.raises(SerializationError, match="accumulator is not valid"):
        plugin.merge(b"{}", acc)
    with pytest.raises(SerializationError, match="accumulator is not valid"):
        plugin.emit(acc)
