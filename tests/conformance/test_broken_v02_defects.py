"""The 0.2 members of the broken corpus are broken exactly as they claim, at the WIT level.

Independent of the conformance checks that must flag them: each defect is
shown here through the bindings generated from wit/, next to the part of
the same component that works, so a check that misses one fails for the
right reason.
"""

from __future__ import annotations

from dataflare.model import Record
from guests_rust.twins import to_wit
from guests_rust.wit02 import Guest02, from_batch, to_batch, unwrap


def test_broken_merge_drops_the_later_part(broken_corpus):
    world = Guest02(broken_corpus / "broken_merge.wasm", "aggregate").world
    unwrap(world.configure([]))
    recs = [Record(value=b"x")] * 5
    whole = world.aggregate_batch(world.init(), to_batch(recs)).accumulator
    left = world.aggregate_batch(world.init(), to_batch(recs[:2])).accumulator
    right = world.aggregate_batch(world.init(), to_batch(recs[2:])).accumulator
    assert from_batch(unwrap(world.emit(whole))) == [Record(value=b"5")]
    assert from_batch(unwrap(world.emit(unwrap(world.merge(left, right))))) == [Record(value=b"2")]


def test_broken_offsets_returns_ends_out_of_order_and_past_the_text(broken_corpus):
    world = Guest02(broken_corpus / "broken_offsets.wasm", "transform").world
    unwrap(world.configure([]))
    recs = [Record(value=b"long value"), Record(value=b"ab"), Record(value=b"c")]
    singles = [unwrap(world.transform(to_wit(r))).value for r in recs]
    assert singles == [b"LONG VALUE", b"AB", b"C"]
    out = world.transform_batch(to_batch(recs))
    assert out.errors == []
    assert out.records.values.text == "LONG VALUEABC"
    assert out.records.values.ends == [10, 2, 14]  # decreasing, and past 13 bytes
