"""Metadata through the host's own 0.2 adapter and the JS SDK together.

test_js_columnar.py checks the SDK against the tests' reference encoder;
here the host builds the `metadata-column` and reads the guest's back, so
both sides must count the same UTF-8 byte ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dataflare.model import Record
from dataflare.plugins.kinds import AnyPlugin
from dataflare.plugins.wasm import load_wasm_plugin
from guests_rust.strategies import metadata
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.guests import built_guest


@pytest.fixture(scope="module")
def mask_email() -> Iterator[AnyPlugin]:
    plugin = load_wasm_plugin(built_guest("js", "mask_email"), "transform")
    plugin.configure({"field": "email"})
    yield plugin
    plugin.close()


@given(st.lists(metadata.map(dict), max_size=6))
@example([{"\ufeffé": "\ufeff😀", "a": ""}, {}, {"ü": "€", "": "x"}])
@settings(max_examples=30)
def test_transform_batch_keeps_every_records_metadata(mask_email, pairs):
    records = [
        Record(value=b'{"email": "ann@x"}' if i % 2 else b"{}", metadata=m)
        for i, m in enumerate(pairs)
    ]
    out = mask_email.transform_batch(records)
    assert [r.metadata for r in out] == pairs, out
