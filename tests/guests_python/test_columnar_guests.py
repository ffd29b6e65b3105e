"""The Python guests as 0.2 components, called through the generated 0.2 bindings.

For each example: the columnar batch export gives what the per-record export
gives for each record, and what the native twin gives; count_sum's `merge`
joins folds of any split into what one fold emits; a malformed batch fails
its records instead of trapping.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from dataflare.builtin.count_sum import CountSum
from dataflare.builtin.json_filter import JsonFilter
from dataflare.builtin.mask_email import MaskEmail
from dataflare.errors import PluginError, ProcessingError
from dataflare.model import Record
from hypothesis import example, given, settings
from hypothesis import strategies as st
from plugins.strategies import FIELDS, record_lists

from guests_python import wit02
from guests_python.test_twins import count_sum_records, filter_values

guest_settings = settings(max_examples=60)
CLASSES = {"json_filter": "Filter", "mask_email": "Transform", "count_sum": "Aggregate"}
WORLDS = {"json_filter": "filter", "mask_email": "transform", "count_sum": "aggregate"}


@pytest.fixture(scope="session")
def w02(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The generated `dataflare:plugin@0.2.0` bindings."""
    return wit02.generate(tmp_path_factory.mktemp("wit02"))


@pytest.fixture(scope="session")
def guests(w02: ModuleType, guest_path: Callable[[str], Path]) -> Iterator[dict[str, Any]]:
    """One instance of each example, wrapped in its generated world class."""
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(
                wit02.opened(guest_path(name), getattr(w02, WORLDS[name]), cls)
            )
            for name, cls in CLASSES.items()
        }


def configure(guest: Any, params: dict[str, str]) -> None:
    wit02.unwrap(guest.configure(list(params.items())))


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except PluginError as exc:
        return exc


@pytest.mark.slow
@guest_settings
@given(field=st.sampled_from(FIELDS), value=filter_values, records=record_lists)
def test_json_filter_batch_decides_like_each_record_and_native(
    guests: dict[str, Any], w02: ModuleType, field: str, value: str, records: list[Record]
) -> None:
    guest, native = guests["json_filter"], JsonFilter()
    params = {"field": field, "value": value}
    configure(guest, params)
    native.configure(params)
    want = [outcome(lambda r=r: native.filter(r)) for r in records]
    got = guest.filter_batch(wit02.to_batch(w02.types, records))
    assert wit02.filter_outcomes(got, len(records)) == want
    singly = wit02.wit_records(w02.types, records)
    assert [outcome(lambda r=r: wit02.unwrap(guest.filter(r))) for r in singly] == want


@pytest.mark.slow
@guest_settings
@given(field=st.sampled_from(FIELDS), records=record_lists)
def test_mask_email_batch_transforms_like_each_record_and_native(
    guests: dict[str, Any], w02: ModuleType, field: str, records: list[Record]
) -> None:
    guest, native = guests["mask_email"], MaskEmail()
    configure(guest, {"field": field})
    native.configure({"field": field})
    want = [outcome(lambda r=r: native.transform(r)) for r in records]
    got = guest.transform_batch(wit02.to_batch(w02.types, records))
    assert wit02.transform_outcomes(got, len(records)) == want
    singly = [
        outcome(lambda r=r: wit02.model_record(wit02.unwrap(guest.transform(r))))
        for r in wit02.wit_records(w02.types, records)
    ]
    assert singly == want


def fold_batch(guest: Any, w02: ModuleType, acc: bytes, records: Sequence[Record]) -> Any:
    got = guest.aggregate_batch(acc, wit02.to_batch(w02.types, records))
    return got.accumulator, wit02.sparse(got.errors, len(records))


def fold_singly(guest: Any, w02: ModuleType, records: Sequence[Record]) -> Any:
    acc, errors = guest.init(), []
    for r in wit02.wit_records(w02.types, records):
        try:
            acc = wit02.unwrap(guest.aggregate(acc, r))
            errors.append(None)
        except PluginError as exc:
            errors.append(exc)
    return acc, errors


def emitted(guest: Any, acc: bytes) -> list[Record]:
    return wit02.from_batch(wit02.unwrap(guest.emit(acc)))


@pytest.mark.slow
@guest_settings
@given(
    group_by=st.sampled_from(["region", "email", "é"]),
    sum_field=st.sampled_from(["n", "email"]),
    records=count_sum_records,
    cuts=st.lists(st.integers(0, 12), max_size=3),
)
@example(  # the second 1e308 overflows the group's sum, though alone it would not
    group_by="email",
    sum_field="email",
    records=[Record(b'{"email": "a", "email": 1e308}')] * 2,
    cuts=[1],
)
def test_count_sum_batch_folds_like_each_record_and_merges_any_split(
    guests: dict[str, Any],
    w02: ModuleType,
    group_by: str,
    sum_field: str,
    records: list[Record],
    cuts: list[int],
) -> None:
    guest, native = guests["count_sum"], CountSum()
    params = {"group_by": group_by, "sum_field": sum_field}
    configure(guest, params)
    native.configure(params)
    acc, errors = fold_batch(guest, w02, guest.init(), records)
    assert fold_singly(guest, w02, records) == (acc, errors)
    # Which records fail, and the accumulator, are the native twin's, exactly: a
    # record fails against the groups folded before it (a sum can overflow).
    assert (acc, errors) == native.aggregate_batch(native.init(), records)
    if any(isinstance(e, ProcessingError) and "overflows" in str(e) for e in errors):
        return  # a skipped overflow may overflow again when the parts are merged

    bounds = [0, *sorted(cuts), len(records)]
    parts = [records[a:b] for a, b in itertools.pairwise(bounds)]
    merged = guest.init()
    for part in parts:
        part_acc, _ = fold_batch(guest, w02, guest.init(), part)
        merged = wit02.unwrap(guest.merge(merged, part_acc))
    assert emitted(guest, merged) == emitted(guest, acc)


small_sums = st.lists(
    st.builds(
        lambda g, n: Record(json.dumps({"g": g, "n": n}).encode()),
        st.sampled_from(["a", "b", 1, None, "\U0001f600", "\uff61"]),
        st.integers(-(2**40), 2**40) | st.sampled_from([0.5, -0.0, 0.25]),
    ),
    max_size=20,
)


@pytest.mark.slow
@guest_settings
@given(records=small_sums)
def test_count_sum_emits_like_native_when_sums_are_exact_in_doubles(
    guests: dict[str, Any], w02: ModuleType, records: list[Record]
) -> None:
    guest, native = guests["count_sum"], CountSum()
    configure(guest, {"group_by": "g", "sum_field": "n"})
    native.configure({"group_by": "g", "sum_field": "n"})
    acc, _ = fold_batch(guest, w02, guest.init(), records)
    assert emitted(guest, acc) == native.emit(native.aggregate_batch(native.init(), records)[0])


def test_count_sum_sum_is_exact_and_rounded_once(guests: dict[str, Any], w02: ModuleType) -> None:
    guest = guests["count_sum"]
    configure(guest, {"group_by": "g", "sum_field": "n"})
    values = [0.1, 0.2, 0.3, 1e16, 1.0, -1e16]
    records = [Record(json.dumps({"g": "a", "n": n}).encode()) for n in values]
    acc, errors = fold_batch(guest, w02, guest.init(), records)
    assert errors == [None] * 6
    # The Rust guest's format: the rounded sum, and msum's partials (smallest first).
    assert acc == (
        b'{"a":{"count":6,"partials":[2.7755575615628914e-17,-1.1102230246251565e-16,'
        b'-0.3999999999999999,2],"sum":1.6}}'
    )
    # 0.1 + 0.2 + 0.3 + 1.0 is 1.6 exactly rounded; in record order, doubles give 0.
    assert json.loads(emitted(guest, acc)[0].value)["sum"] == 1.6


def test_count_sum_overflow_fails_the_record_and_the_merge(
    guests: dict[str, Any], w02: ModuleType
) -> None:
    guest = guests["count_sum"]
    configure(guest, {"group_by": "g", "sum_field": "n"})
    big = Record(b'{"g": "a", "n": 1e308}')
    acc, errors = fold_batch(guest, w02, guest.init(), [big, big])
    overflow = ProcessingError('sum of field "n" overflows')
    assert errors == [None, overflow]
    with pytest.raises(ProcessingError) as info:
        wit02.unwrap(guest.merge(acc, acc))
    assert info.value == overflow
    assert wit02.unwrap(guest.merge(guest.init(), acc)) == acc


NO_METADATA: Any = ([], ("", []), ("", []))


@pytest.mark.parametrize(
    ("text", "ends", "metadata"),
    [
        ("abc", [1, 0, 3], NO_METADATA),
        ("abc", [1, 2], NO_METADATA),
        ("é", [1, 2], NO_METADATA),
        ("", [0, 5], NO_METADATA),
        ("x", [], NO_METADATA),
        # Well-formed values, malformed metadata: counts disagree, a record
        # out of range, records decrease, an end inside a character.
        ("ab", [1, 2], ([0], ("nm", [1, 2]), ("v", [1]))),
        ("ab", [1, 2], ([0, 2], ("nm", [1, 2]), ("vw", [1, 2]))),
        ("ab", [1, 2], ([1, 0], ("nm", [1, 2]), ("vw", [1, 2]))),
        ("ab", [1, 2], ([0, 1], ("é", [1, 2]), ("vw", [1, 2]))),
    ],
)
def test_a_malformed_batch_fails_each_record_without_a_trap(
    guests: dict[str, Any], w02: ModuleType, text: str, ends: list[int], metadata: Any
) -> None:
    t = w02.types
    records, names, values = metadata
    meta = t.MetadataColumn(records, t.StringColumn(*names), t.StringColumn(*values))
    batch = t.Batch(t.BytesColumn(text, ends, [], []), None, None, meta)
    n = len(ends)
    configure(guests["json_filter"], {"field": "a", "value": "1"})
    configure(guests["mask_email"], {})
    configure(guests["count_sum"], {"group_by": "g", "sum_field": "n"})
    filtered = wit02.filter_outcomes(guests["json_filter"].filter_batch(batch), n)
    transformed = wit02.transform_outcomes(guests["mask_email"].transform_batch(batch), n)
    folded = guests["count_sum"].aggregate_batch(b"{}", batch)
    assert folded.accumulator == b"{}"
    for errors in (filtered, transformed, wit02.sparse(folded.errors, n)):
        assert [str(e).split(":")[0] for e in errors] == ["malformed batch"] * n
    # The instances still work.
    ok = wit02.to_batch(t, [Record(b'{"a": 1}')])
    assert wit02.filter_outcomes(guests["json_filter"].filter_batch(ok), 1) == [True]
