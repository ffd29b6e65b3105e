"""`jsonl_sink` writes only where the host grants; `gen_source` follows its params and positions."""

from __future__ import annotations

import json

import pytest
from dataflare.errors import ConfigurationError, PluginIoError, SerializationError
from dataflare.model import Record
from guests_rust.stock_host import StockGuest, from_wit, outcome, outcomes, to_wit
from hypothesis import given, settings
from hypothesis import strategies as st
from support.guests import built_guest


@pytest.fixture(scope="module")
def sink_path():
    return built_guest("rust", "jsonl_sink")


@pytest.fixture(scope="module")
def source_path():
    return built_guest("rust", "gen_source")


def _sink(sink_path, granted, path, **params):
    guest = StockGuest(sink_path, preopen=(granted, "/out"))
    guest.configure({"path": path, **params})
    return guest


def test_sink_writes_jsonl_inside_the_granted_directory(sink_path, tmp_path):
    guest = _sink(sink_path, tmp_path, "/out/data.jsonl")
    guest.call("connect")
    guest.call("write", to_wit(Record(value=b'{"a": 1}')))
    batch = [Record(value=b'{"b":\n 2.0}'), Record(value=b"not json"), Record(value=b"[3]")]
    results = outcomes(guest.raw("write-batch", [to_wit(r) for r in batch]))
    assert results == [None, SerializationError("value is not valid JSON"), None]
    guest.call("flush")
    assert (tmp_path / "data.jsonl").read_bytes() == b'{"a": 1}\n{"b":2}\n[3]\n'
    guest.call("close")
    with pytest.raises(PluginIoError, match="closed"):
        guest.call("write", to_wit(Record(value=b"1")))


def test_sink_append_mode_keeps_earlier_lines(sink_path, tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"0\n")
    guest = _sink(sink_path, tmp_path, "/out/a.jsonl", mode="append")
    guest.call("connect")
    guest.call("write", to_wit(Record(value=b"1")))
    guest.call("close")
    assert (tmp_path / "a.jsonl").read_bytes() == b"0\n1\n"


@pytest.mark.parametrize(
    "path", ["/etc/dataflare-escape.jsonl", "/out/../escape.jsonl", "escape.jsonl", "/outside/x"]
)
def test_sink_outside_the_grant_is_an_io_error_not_a_trap(sink_path, tmp_path, path):
    granted = tmp_path / "granted"
    granted.mkdir()
    guest = _sink(sink_path, granted, path)
    with pytest.raises(PluginIoError):
        guest.call("connect")
    # No trap: the same instance still answers, and nothing was written anywhere.
    assert guest.raw("describe").name == "jsonl_sink"
    with pytest.raises(PluginIoError, match="not connected"):
        guest.call("write", to_wit(Record(value=b"1")))
    assert list(tmp_path.rglob("*.jsonl")) == []


def test_sink_without_any_grant_cannot_write(sink_path, tmp_path):
    guest = StockGuest(sink_path)
    guest.configure({"path": "/out/x.jsonl"})
    with pytest.raises(PluginIoError):
        guest.call("connect")


def test_sink_rejects_bad_params(sink_path, tmp_path):
    guest = StockGuest(sink_path, preopen=(tmp_path, "/out"))
    with pytest.raises(ConfigurationError, match="mode must be one of overwrite, append"):
        guest.configure({"path": "/out/x", "mode": "sideways"})
    with pytest.raises(ConfigurationError, match="missing required parameter 'path'"):
        guest.configure({})


def _read_all(guest, batch):
    out = []
    while chunk := guest.call("read", batch):
        out.extend(from_wit(r) for r in chunk)
    return out


@given(st.integers(0, 60), st.integers(0, 2**64 - 1), st.integers(1, 25))
@settings(max_examples=25)
def test_source_is_deterministic_and_batch_size_independent(source_path, count, seed, batch):
    first = StockGuest(source_path)
    first.configure({"count": str(count), "seed": str(seed)})
    first.call("connect")
    records = _read_all(first, batch)
    second = StockGuest(source_path)
    second.configure({"count": str(count), "seed": str(seed)})
    second.call("connect")
    assert _read_all(second, 7) == records
    assert len(records) == count
    for i, r in enumerate(records):
        assert r.key == str(i).encode()
        assert r.timestamp == 1_700_000_000_000 + 1000 * i
        assert r.metadata == {"source": "gen_source"}
        body = json.loads(r.value)
        assert body["id"] == i and body["email"] == body["user"] + "@example.com"


@given(st.integers(0, 50), st.integers(0, 50))
@settings(max_examples=25)
def test_source_resumes_from_a_checkpoint_in_a_new_instance(source_path, count, split):
    guest = StockGuest(source_path)
    guest.configure({"count": str(count), "seed": "3"})
    guest.call("connect")
    head = [from_wit(r) for r in guest.call("read", split)]
    position = guest.call("checkpoint")
    assert isinstance(position, bytes)
    tail = _read_all(guest, 10)
    resumed = StockGuest(source_path)
    resumed.configure({"count": str(count), "seed": "3"})
    resumed.call("connect")
    resumed.call("restore", position)
    assert _read_all(resumed, 10) == tail
    assert len(head) + len(tail) == count


def test_source_errors(source_path):
    guest = StockGuest(source_path)
    with pytest.raises(ConfigurationError, match="count must be a non-negative integer"):
        guest.configure({"count": "-3"})
    guest.configure({"count": "2"})
    with pytest.raises(PluginIoError, match="not connected"):
        guest.call("read", 1)
    guest.call("connect")
    assert outcome(guest.raw("restore", b"short")).kind == "serialization"
    guest.call("close")
    with pytest.raises(PluginIoError, match="closed"):
        guest.call("read", 1)
