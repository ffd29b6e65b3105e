"""The byte-pointer ABI anchor of `make bench` (h) decides exactly as the native json_filter.

The bench asserts agreement on its own uniform batch only; this is where the
anchor's JSON rules and framing meet the edges: non-JSON, empty values,
missing fields, non-string fields, odd `value`s, empty batches.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dataflare.builtin.json_filter import JsonFilter
from dataflare.errors import SerializationError
from guests_rust.strategies import FIELDS, record_values
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.markers import require
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import byte_abi_call  # noqa: E402

pytestmark = pytest.mark.guests

match_values = st.sampled_from(
    ["active", "1", "1.0", "true", "null", '{"a":[1]}', "", "😀é@ß", "[]", "a@b.c", "{"]
)


@pytest.fixture(scope="module")
def anchor() -> Iterator[byte_abi_call.ByteAbiFilter]:
    require("guests", "builds bench/byte_abi")
    try:
        module = byte_abi_call.build()
    except byte_abi_call.BuildError as exc:
        message = str(exc)
        if "install" in message.lower() and "not found" in message.lower():
            missing(message)
        raise
    yield byte_abi_call.ByteAbiFilter(module, "status", "active")


def native_decisions(field: str, value: str, values: list[bytes]) -> bytes:
    """What the host's own json_filter does, as the anchor's decision bytes."""
    from dataflare.model import Record

    plugin = JsonFilter()
    plugin.configure({"field": field, "value": value})
    out = bytearray()
    for v in values:
        try:
            out.append(byte_abi_call.KEEP if plugin.filter(Record(v)) else byte_abi_call.DROP)
        except SerializationError:
            out.append(byte_abi_call.ERROR)
    return bytes(out)


@given(st.sampled_from([*FIELDS, "missing"]), match_values, st.lists(record_values, max_size=12))
@example("status", "active", [b"", b"{", b"[1]", b"{}", b'{"other": "active"}', b"\xff"])
@example("status", "", [b'{"status": ""}', b'{"status": null}', b'{"status": []}'])
@example("n", "1", [b'{"n": 1.0e0}', b'{"n": "1"}', b'{"n": true}', b'{"n": 01}'])
@example("status", "active", [])
@settings(max_examples=150)
def test_byte_abi_decides_as_native(anchor, field, value, values):
    anchor.configure(field, value)
    assert anchor.decide(values) == native_decisions(field, value, values)


def test_frame_layout():
    assert byte_abi_call.frame([]) == b"\0\0\0\0"
    assert byte_abi_call.frame([b"ab", b""]) == b"\2\0\0\0" + b"\2\0\0\0ab" + b"\0\0\0\0"


def test_missing_toolchain_names_what_to_install():
    proc = subprocess.run(
        ["make", "-s", "-C", str(byte_abi_call.SOURCE), "-W", "src/lib.rs", "RUSTC=/nonexistent"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "install it with: apt-get install rustc cargo libstd-rust-dev-wasm32" in proc.stderr
