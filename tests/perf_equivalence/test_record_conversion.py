"""The pipeline's record conversions build exactly what the dataclass constructors build."""

from __future__ import annotations

import dataclasses

from dataflare._wit_v0_1 import types as wit
from dataflare.model import Record
from dataflare.plugins.wit_records import from_wit_record, to_wit_record
from hypothesis import given
from hypothesis import strategies as st

texts = st.text(max_size=8)
records = st.builds(
    Record,
    value=st.binary(max_size=32),
    key=st.none() | st.binary(max_size=8),
    timestamp=st.none() | st.integers(-(2**63), 2**63 - 1),
    metadata=st.dictionaries(texts, texts, max_size=4),
)


@given(records)
def test_to_wit_record_matches_the_constructor(record: Record) -> None:
    got = to_wit_record(record)
    want = wit.Record(record.key, record.value, record.timestamp, list(record.metadata.items()))
    assert type(got) is wit.Record
    assert got == want
    assert repr(got) == repr(want)
    # frozen like a constructed one, and a fresh metadata list every time
    assert got.metadata is not to_wit_record(record).metadata
    try:
        got.value = b"x"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a converted record must stay frozen")


@given(records)
def test_from_wit_record_round_trips(record: Record) -> None:
    back = from_wit_record(to_wit_record(record))
    assert type(back) is Record
    assert back == record


@given(st.lists(st.tuples(texts, texts), max_size=5))
def test_from_wit_record_keeps_the_last_of_a_repeated_name(pairs: list[tuple[str, str]]) -> None:
    back = from_wit_record(wit.Record(None, b"v", None, pairs))
    assert back == Record(b"v", None, None, dict(pairs))
    assert list(back.metadata.items()) == list(dict(pairs).items())
