"""`jsonl_sink` writes only where the host grants; `gen_source` follows its params and positions.

Both are 0.2.0 components, called through the bindings generated from wit/.
"""

from __future__ import annotations

import json

import pytest
from dataflare.errors import ConfigurationError, PluginIoError, SerializationError
from dataflare.model import Record
from guests_rust.twins import outcome, to_wit
from guests_rust.wit02 import Guest02, bindings, from_batch, plain, to_batch, unwrap
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
    guest = Guest02(sink_path, "sink", preopen=(granted, "/out"))
    guest.configure({"path": path, **params})
    return guest.world


def _source(source_path, **params):
    guest = Guest02(source_path, "source")
    guest.configure({k: str(v) for k, v in params.items()})
    return guest.world


def test_sink_writes_jsonl_inside_the_granted_directory(sink_path, tmp_path):
    sink = _sink(sink_path, tmp_path, "/out/data.jsonl")
    unwrap(sink.connect())
    unwrap(sink.write(to_wit(Record(value=b'{"a": 1}'))))
    batch = [Record(value=b'{"b":\n 2.0}'), Record(value=b"not json"), Record(value=b"[3]")]
    errors = sink.write_batch(to_batch(batch))
    assert [(e.index, plain(e.error)) for e in errors] == [
        (1, SerializationError("value is not valid JSON"))
    ]
    assert sink.write_batch(to_batch([])) == []
    unwrap(sink.flush())
    assert (tmp_path / "data.jsonl").read_bytes() == b'{"a": 1}\n{"b":2}\n[3]\n'
    unwrap(sink.close())
    with pytest.raises(PluginIoError, match="closed"):
        unwrap(sink.write(to_wit(Record(value=b"1"))))


def test_sink_append_mode_keeps_earlier_lines(sink_path, tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"0\n")
    sink = _sink(sink_path, tmp_path, "/out/a.jsonl", mode="append")
    unwrap(sink.connect())
    unwrap(sink.write(to_wit(Record(value=b"1"))))
    unwrap(sink.close())
    assert (tmp_path / "a.jsonl").read_bytes() == b"0\n1\n"


@pytest.mark.parametrize(
    "path", ["/etc/dataflare-escape.jsonl", "/out/../escape.jsonl", "escape.jsonl", "/outside/x"]
)
def test_sink_outside_the_grant_is_an_io_error_not_a_trap(sink_path, tmp_path, path):
    granted = tmp_path / "granted"
    granted.mkdir()
    sink = _sink(sink_path, granted, path)
    with pytest.raises(PluginIoError):
        unwrap(sink.connect())
    # No trap: the same instance still answers, and nothing was written anywhere.
    assert sink.describe().name == "jsonl_sink"
    with pytest.raises(PluginIoError, match="not connected"):
        unwrap(sink.write(to_wit(Record(value=b"1"))))
    errors = sink.write_batch(to_batch([Record(value=b"1")]))
    assert [plain(e.error).kind for e in errors] == ["io"]
    assert list(tmp_path.rglob("*.jsonl")) == []


def test_sink_without_any_grant_cannot_write(sink_path, tmp_path):
    guest = Guest02(sink_path, "sink")
    guest.configure({"path": "/out/x.jsonl"})
    with pytest.raises(PluginIoError):
        unwrap(guest.world.connect())


def test_sink_rejects_bad_params(sink_path, tmp_path):
    guest = Guest02(sink_path, "sink", preopen=(tmp_path, "/out"))
    with pytest.raises(ConfigurationError, match="mode must be one of overwrite, append"):
        guest.configure({"path": "/out/x", "mode": "sideways"})
    with pytest.raises(ConfigurationError, match="missing required parameter 'path'"):
        guest.configure({})


def _read_all(source, batch, pendings=None):
    """Read to `end`; `pendings` collects the index of each `pending` answer."""
    types = bindings().types
    out = []
    while True:
        got = unwrap(source.read(batch))
        if isinstance(got, types.ReadOutcomeEnd):
            return out
        if isinstance(got, types.ReadOutcomePending):
            assert pendings is not None, "pending without pending_every"
            pendings.append(len(out))
            continue
        assert isinstance(got, types.ReadOutcomeRecords)
        chunk = from_batch(got.value)
        assert 1 <= len(chunk) <= batch, "records: at least one, at most max"
        out.extend(chunk)


@given(st.integers(0, 60), st.integers(0, 2**64 - 1), st.integers(1, 25))
@settings(max_examples=25)
def test_source_is_deterministic_and_batch_size_independent(source_path, count, seed, batch):
    first = _source(source_path, count=count, seed=seed)
    unwrap(first.connect())
    records = _read_all(first, batch)
    second = _source(source_path, count=count, seed=seed)
    unwrap(second.connect())
    assert _read_all(second, 7) == records
    assert len(records) == count
    for i, r in enumerate(records):
        assert r.key == str(i).encode()
        assert r.timestamp == 1_700_000_000_000 + 1000 * i
        assert r.metadata == {"source": "gen_source"}
        body = json.loads(r.value)
        assert body["id"] == i and body["email"] == body["user"] + "@example.com"


@given(st.integers(1, 40), st.integers(1, 5), st.integers(1, 9))
@settings(max_examples=25)
def test_source_answers_pending_between_batches_and_loses_nothing(source_path, count, every, batch):
    plain_source = _source(source_path, count=count, seed=1)
    unwrap(plain_source.connect())
    want = _read_all(plain_source, batch)
    waiting = _source(source_path, count=count, seed=1, pending_every=every)
    unwrap(waiting.connect())
    pendings: list[int] = []
    assert _read_all(waiting, batch, pendings) == want
    # One pending after every `every` batches that still had records to follow.
    batches = -(-count // batch)
    assert len(pendings) == (batches - 1) // every
    assert all(p % (every * batch) == 0 for p in pendings)


@given(st.integers(0, 50), st.integers(1, 50))
@settings(max_examples=25)
def test_source_resumes_from_a_checkpoint_in_a_new_instance(source_path, count, split):
    types = bindings().types
    source = _source(source_path, count=count, seed=3)
    unwrap(source.connect())
    got = unwrap(source.read(split))
    head = from_batch(got.value) if isinstance(got, types.ReadOutcomeRecords) else []
    position = unwrap(source.checkpoint())
    assert isinstance(position, bytes)
    tail = _read_all(source, 10)
    resumed = _source(source_path, count=count, seed=3)
    unwrap(resumed.connect())
    unwrap(resumed.restore(position))
    assert _read_all(resumed, 10) == tail
    assert len(head) + len(tail) == count


def test_source_errors(source_path):
    guest = Guest02(source_path, "source")
    with pytest.raises(ConfigurationError, match="count must be a non-negative integer"):
        guest.configure({"count": "-3"})
    with pytest.raises(ConfigurationError, match="pending_every must be a non-negative integer"):
        guest.configure({"pending_every": "soon"})
    guest.configure({"count": "2"})
    source = guest.world
    with pytest.raises(PluginIoError, match="not connected"):
        unwrap(source.read(1))
    unwrap(source.connect())
    assert outcome(source.restore(b"short")).kind == "serialization"
    assert isinstance(unwrap(source.read(0)), bindings().types.ReadOutcomePending)
    unwrap(source.close())
    with pytest.raises(PluginIoError, match="closed"):
        unwrap(source.read(1))
