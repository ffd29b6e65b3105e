"""`rt.UTF8` (a WIT string held as UTF-8 bytes): C and Python paths agree, and refuse alike.

wasmtime aborts the process on a string that is not UTF-8, so both paths
must check what they are given; and the 0.2 batch codecs built on UTF8
read back what they wrote.
"""

from __future__ import annotations

from typing import Any

import pytest
from abi.conftest import require_native
from dataflare.abi import c_ext, rt, val_memory, val_nodes
from dataflare.abi.val_scalars import utf8_error
from hypothesis import given
from hypothesis import strategies as st

from perf_equivalence.test_native_extension import outcome

SPEC = rt.UTF8.spec

utf8ish = st.one_of(
    st.text().map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=12),
    st.lists(
        st.sampled_from(
            [b"a", b"\xc3", b"\xa9", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]
        ),
        max_size=6,
    ).map(b"".join),
)
containers = st.sampled_from([bytes, bytearray, memoryview])


@pytest.fixture(autouse=True)
def _native() -> None:
    require_native()


@given(utf8ish)
def test_c_finds_the_same_first_bad_byte_as_cpythons_decoder(data: bytes) -> None:
    from dataflare.abi import _fastc

    assert _fastc.utf8_error(data) == utf8_error(data) == c_ext.utf8_error(data)


@given(utf8ish, containers)
def test_both_paths_lower_and_lift_alike_and_refuse_bad_utf8_alike(
    data: bytes, container: Any
) -> None:
    value = container(data)
    results = []
    for lower, lift in (
        (c_ext.node(SPEC).lower, c_ext.node(SPEC).lift),
        val_nodes.compile_spec(SPEC),
    ):
        ar = val_memory._Arena(64)
        addr = ar.alloc(val_memory.VAL)
        low = outcome(lower, value, addr, ar)
        results.append((low, outcome(lift, addr) if low[0] == "ok" else None))
    assert results[0] == results[1]
    low, lifted = results[0]
    if utf8_error(data) < 0:
        assert lifted == ("ok", data)
    else:
        assert low == (
            "raised",
            (ValueError, f"string expects UTF-8 bytes: invalid at byte {utf8_error(data)}"),
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("text", "string expects UTF-8 bytes, got str"),
        (3, "string expects UTF-8 bytes, got int"),
        (memoryview(b"abcd")[::2], "string expects UTF-8 bytes, got a non-contiguous memoryview"),
    ],
)
def test_other_values_are_refused_alike(value: Any, message: str) -> None:
    for lower in (c_ext.node(SPEC).lower, val_nodes.compile_spec(SPEC)[0]):
        ar = val_memory._Arena(64)
        assert outcome(lower, value, ar.alloc(val_memory.VAL), ar) == (
            "raised",
            (TypeError, message),
        )


def test_a_typed_memoryview_crosses_as_its_bytes() -> None:
    import array

    words = memoryview(array.array("I", [0x61626364]))
    for lower, lift in (
        (c_ext.node(SPEC).lower, c_ext.node(SPEC).lift),
        val_nodes.compile_spec(SPEC),
    ):
        ar = val_memory._Arena(64)
        addr = ar.alloc(val_memory.VAL)
        lower(words, addr, ar)
        assert lift(addr) == b"dcba"
