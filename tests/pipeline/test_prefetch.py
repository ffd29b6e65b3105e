# ruff: noqa: E501  (YAML fixtures read best on one line)
"""`ReadAhead` and `ReadInline`: batches in order, errors in the consumer, bounded, stoppable."""

from __future__ import annotations

import json
import shutil
import threading
import time

import dfpipe_plugins
import pytest
from dataflare import StageFailed
from dataflare.pipeline import run_pipeline
from dataflare.pipeline.prefetch import ReadAhead, ReadInline
from support.guests import built_guest
from support.stopping import run_stopping_after

READERS = [ReadAhead, ReadInline]


class Counter:
    """Batches 0..n-1 then an empty one; records which thread read and how far ahead."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n = n
        self.fail_at = fail_at
        self.reads = 0
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def read(self) -> list[int]:
        with self.lock:
            self.threads.add(threading.current_thread().name)
            i = self.reads
            self.reads += 1
        if i == self.fail_at:
            raise RuntimeError(f"read {i} failed")
        return [i] if i < self.n else []


def _empty(batch: list[int]) -> bool:
    return not batch


def drain(reader) -> list[int]:
    out = []
    while (batch := reader.next()) is not None:
        out.extend(batch)
    return out


@pytest.mark.parametrize("cls", READERS)
def test_batches_come_in_order_then_none(cls):
    src = Counter(50)
    reader = cls("src", src.read, _empty)
    assert drain(reader) == list(range(50))
    assert reader.next() is None
    assert src.reads == 51  # the empty batch ends it; nothing read after


def test_read_ahead_reads_on_its_own_thread_and_inline_does_not():
    ahead, inline = Counter(3), Counter(3)
    drain(ReadAhead("src", ahead.read, _empty))
    drain(ReadInline("src", inline.read, _empty))
    assert ahead.threads == {"dataflare-read-src"}
    assert inline.threads == {threading.current_thread().name}


@pytest.mark.parametrize("cls", READERS)
def test_an_error_is_raised_in_the_consumer_after_the_batches_before_it(cls):
    src = Counter(10, fail_at=3)
    reader = cls("src", src.read, _empty)
    got = [reader.next(), reader.next(), reader.next()]
    assert got == [[0], [1], [2]]
    with pytest.raises(RuntimeError, match="read 3 failed"):
        reader.next()


def test_read_ahead_stays_at_most_two_batches_ahead():
    src = Counter(1000)
    reader = ReadAhead("src", src.read, _empty)
    for taken in range(1, 21):
        assert reader.next() is not None
        time.sleep(0.01)  # a slow consumer: the reader waits, it does not run away
        assert src.reads <= taken + 2
    reader.abandon()


def test_stop_hands_out_what_was_read_then_ends():
    src = Counter(1000)
    reader = ReadAhead("src", src.read, _empty)
    first = reader.next()
    time.sleep(0.05)  # let it fill up
    reader.stop()
    rest = drain(reader)
    assert first == [0]
    # nothing read is lost, and it stopped within its bound
    assert rest == list(range(1, src.reads))
    assert src.reads <= 1 + 2 + 1  # taken, two ahead, at most one read in progress


def test_abandon_waits_for_the_reader_and_stops_it():
    src = Counter(1000)
    reader = ReadAhead("src", src.read, _empty)
    reader.next()
    reader.abandon()
    reads = src.reads
    time.sleep(0.05)
    assert src.reads == reads
    assert not reader._thread.is_alive()


# ------------------------------------------------------------ in the executor


def _wasm_pipeline(write_yaml, tmp_path, *, count: int, extra: str = "") -> object:
    shutil.copyfile(built_guest("rust", "mask_email"), tmp_path / "mask.wasm")
    return write_yaml(
        f"""
        batch_size: 5
        sources:
          - {{id: nums, type: test_range, config: {{count: {count}}}}}
        processors:
          - {{id: mask, type: plugin, config: {{plugin_type: transform, plugin_source: wasm, plugin_path: mask.wasm, params: {{field: email}}}}}}
        sinks:
          - {{id: log, type: plugin, config: {{plugin_type: sink, plugin_name: test_log{extra}}}}}
        """
    )


@pytest.mark.guests
def test_a_wasm_pipeline_reads_ahead_and_writes_everything_in_order(write_yaml, tmp_path):
    path = _wasm_pipeline(write_yaml, tmp_path, count=203)
    seen: set[str] = set()
    real_read = dfpipe_plugins.RangeSource.read

    def read(self, max_records):
        seen.add(threading.current_thread().name)
        return real_read(self, max_records)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dfpipe_plugins.RangeSource, "read", read)
        stats = run_pipeline(path)
    assert seen == {"dataflare-read-nums"}
    assert stats.records_read == 203
    assert [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED] == list(range(203))


@pytest.mark.guests
def test_a_stop_with_read_ahead_writes_every_record_read(write_yaml, tmp_path):
    path = _wasm_pipeline(write_yaml, tmp_path, count=1000)
    stats = run_stopping_after(path, 15)
    assert stats.interrupted
    assert 15 <= stats.records_read <= 15 + 3 * 5  # at most the batches already read ahead
    received = [json.loads(r.value)["n"] for r in dfpipe_plugins.LogSink.RECEIVED]
    assert received == list(range(stats.records_read))


@pytest.mark.guests
def test_a_failing_stage_stops_the_reader_before_closing(write_yaml, tmp_path):
    path = _wasm_pipeline(write_yaml, tmp_path, count=1000, extra=", params: {reject: '12}'}")
    with pytest.raises(StageFailed, match="rejected"):
        run_pipeline(path)
    assert not [t for t in threading.enumerate() if t.name.startswith("dataflare-read-")]
    read = sum(n for what, n in dfpipe_plugins.EVENTS if what == "read")
    assert read <= 15 + 3 * 5
