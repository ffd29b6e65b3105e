"""The dataflare worlds' own record type through a real guest: every codec path agrees.

The Rust `echo` transform returns every record unchanged, so the fast path in
C and the fast path in Python must both give back
`Ok(record)` for any key, value, timestamp and metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dataflare._wit_v0_1 import transform as wit_transform
from dataflare._wit_v0_1 import types as wit
from dataflare.abi import c_ext, rt
from dataflare.abi.typedfunc import TypedFunc
from dataflare.model import PluginKind
from dataflare.runtime import load_component
from dataflare.runtime.instance import PluginInstance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.guests import v0_1_fixture

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
records = st.builds(
    wit.Record,
    key=st.none() | st.binary(max_size=16),
    value=st.binary(max_size=200),
    timestamp=st.none() | st.integers(-(2**63), 2**63 - 1),
    metadata=st.lists(st.tuples(text, text), max_size=4),
)


@pytest.fixture(scope="module")
def echo() -> Iterator[dict[str, TypedFunc[Any]]]:
    """`transform-batch` of a configured echo instance on every codec path."""
    loaded = load_component(v0_1_fixture("echo.rust", Path()), PluginKind.TRANSFORM)  # 0.1 WIT
    inst = PluginInstance(loaded, wit_transform.Transform)
    world: Any = inst.call(lambda w: w)
    assert world.configure([("tag", "t")]) == rt.Ok(None)
    bound = world._transform_batch
    args = (bound._cx, bound._func, bound._params, bound._ret)
    paths = {
        "python": TypedFunc(*args, native=False),
    }
    if c_ext.AVAILABLE:
        paths["native"] = TypedFunc(*args, native=True)
    yield paths
    inst.close()


@pytest.mark.guests
@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records, max_size=8))
def test_record_batches_echo_identically(
    echo: dict[str, TypedFunc[Any]], batch: list[wit.Record]
) -> None:
    expected = [rt.Ok(r) for r in batch]
    for fn in echo.values():
        got = fn(batch)
        assert got == expected
        assert repr(got) == repr(expected)


@pytest.mark.guests
@pytest.mark.parametrize(
    "bad",
    [
        [("k", 1)],  # a non-string metadata value
        [("k",)],  # a pair of the wrong length
        [(1, "\ud800")],  # a type error before an unencodable string
    ],
)
def test_bad_metadata_fails_alike(echo: dict[str, TypedFunc[Any]], bad: Any) -> None:
    record = wit.Record(None, b"v", None, bad)
    messages = set()
    for fn in echo.values():
        with pytest.raises(TypeError) as info:
            fn([record])
        messages.add(str(info.value))
        good = wit.Record(None, b"ok", None, [])
        assert fn([good]) == [rt.Ok(good)]
    assert len(messages) == 1, messages


@pytest.mark.guests
def test_a_non_utf8_encodable_string_fails_alike(echo: dict[str, TypedFunc[Any]]) -> None:
    record = wit.Record(None, b"v", None, [("k", "\udc80")])
    failures = set()
    for fn in echo.values():
        with pytest.raises(UnicodeEncodeError) as info:
            fn([record])
        failures.add(str(info.value))
    assert len(failures) == 1, failures
