"""The dataflare worlds' own record type through a real guest: fast path == stock path.

The Rust `echo` transform returns every record unchanged, so both paths must
give back `Ok(record)` for any key, value, timestamp and metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dataflare.bindgen import rt
from dataflare.bindgen.fastcodec import TypedFunc
from dataflare.bindings import transform as wit_transform
from dataflare.bindings import types as wit
from dataflare.model import PluginKind
from dataflare.runtime import load_component
from dataflare.runtime.instance import PluginInstance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.guests import built_guest

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
records = st.builds(
    wit.Record,
    key=st.none() | st.binary(max_size=16),
    value=st.binary(max_size=200),
    timestamp=st.none() | st.integers(-(2**63), 2**63 - 1),
    metadata=st.lists(st.tuples(text, text), max_size=4),
)


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[TypedFunc[Any], TypedFunc[Any]]]:
    """The fast `transform-batch` of a configured echo instance and its stock twin."""
    loaded = load_component(built_guest("rust", "echo"), PluginKind.TRANSFORM)
    inst = PluginInstance(loaded, wit_transform.Transform)
    world: Any = inst.call(lambda w: w)
    assert world.configure([("tag", "t")]) == rt.Ok(None)
    fast = world._transform_batch
    stock = TypedFunc(fast._cx, fast._func, fast._params, fast._ret, fast=False)
    yield fast, stock
    inst.close()


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records, max_size=8))
def test_record_batches_echo_identically(
    echo: tuple[TypedFunc[Any], TypedFunc[Any]], batch: list[wit.Record]
) -> None:
    fast, stock = echo
    expected = [rt.Ok(r) for r in batch]
    assert fast(batch) == expected
    assert stock(batch) == expected


@pytest.mark.parametrize(
    "bad",
    [
        [("k", 1)],  # a non-string metadata value
        [("k",)],  # a pair of the wrong length
        [(1, "\ud800")],  # a type error before an unencodable string
    ],
)
def test_bad_metadata_fails_alike(echo: tuple[TypedFunc[Any], TypedFunc[Any]], bad: Any) -> None:
    fast, stock = echo
    record = wit.Record(None, b"v", None, bad)
    with pytest.raises(TypeError):
        fast([record])
    with pytest.raises(TypeError):
        stock([record])
    assert fast([wit.Record(None, b"ok", None, [])]) == [rt.Ok(wit.Record(None, b"ok", None, []))]
