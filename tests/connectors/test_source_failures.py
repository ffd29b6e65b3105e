"""Sources report input they cannot decode beside the good records, named ``file:line``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from dataflare.connectors import CsvSource, JsonlSource, StdinSource
from dataflare.errors import SerializationError
from dataflare.plugins.kinds import BatchedSource, ReadFailure, SourceBatch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_BAD_LINES = st.sampled_from([b"not json", b'{"a": 1,,}', b"\xff\xfe", b"[1] [2]", b'{"a": '])
_LINES = st.lists(st.integers(0, 999) | _BAD_LINES, max_size=30)
"""A file: an int n is the good line {"n": n}; bytes are a bad line."""


def drain(source: BatchedSource, size: int) -> tuple[list[SourceBatch], SourceBatch]:
    batches = []
    while True:
        batch = source.read_batch(size)
        if not batch.records and not batch.failures:
            return batches, batch
        batches.append(batch)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_LINES, st.integers(1, 7))
def test_jsonl_bad_lines_fail_alone_with_their_line_and_bytes(
    tmp_path: Path, lines: list[int | bytes], size: int
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b"".join(
            (x if isinstance(x, bytes) else json.dumps({"n": x}).encode()) + b"\n" for x in lines
        )
    )
    source = JsonlSource()
    source.configure({"path": str(path)})
    source.connect()
    batches, _ = drain(source, size)
    source.close()
    assert all(len(b.records) + len(b.failures) <= size for b in batches)
    records = [r for b in batches for r in b.records]
    failures = [f for b in batches for f in b.failures]
    assert [json.loads(r.value) for r in records] == [
        {"n": x} for x in lines if not isinstance(x, bytes)
    ]
    bad = [(number, x) for number, x in enumerate(lines, 1) if isinstance(x, bytes)]
    assert [f.raw for f in failures] == [x for _, x in bad]
    for failure, (number, _) in zip(failures, bad, strict=True):
        assert isinstance(failure.error, SerializationError)
        assert failure.error.message.startswith(f"{path}:{number}: invalid JSON: ")


def test_jsonl_read_raises_the_first_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n{"a": 2,,}\n')
    source = JsonlSource()
    source.configure({"path": str(path)})
    source.connect()
    with pytest.raises(SerializationError, match=rf"^{path}:2: invalid JSON: .*column 9"):
        source.read(10)
    source.close()


def test_jsonl_record_format_bad_envelope_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"value": "x"}\n{"value": 5}\n')
    source = JsonlSource()
    source.configure({"path": str(path), "format": "record"})
    source.connect()
    batch = source.read_batch(10)
    source.close()
    assert [r.value for r in batch.records] == [b"x"]
    assert batch.failures == [
        ReadFailure(
            b'{"value": 5}',
            SerializationError(f"{path}:2: `value` must be a string or null, got 5"),
        )
    ]


def test_jsonl_timestamp_field_of_the_wrong_type_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"ts": "soon"}\n[1]\n{"ts": 7}\n')
    source = JsonlSource()
    source.configure({"path": str(path), "timestamp_field": "ts"})
    source.connect()
    batch = source.read_batch(10)
    source.close()
    assert [r.timestamp for r in batch.records] == [7]
    assert [f.error.message for f in batch.failures] == [
        f"{path}:1: 'ts' must be integer milliseconds, got soon",
        f"{path}:2: expected a JSON object to read fields from",
    ]


def test_stdin_names_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"{}\nnope\n")))
    source = StdinSource()
    source.configure({})
    source.connect()
    batch = source.read_batch(10)
    assert batch.failures[0].error.message.startswith("<stdin>:2: invalid JSON")


def csv_source(path: Path, **params: str) -> CsvSource:
    source = CsvSource()
    source.configure({"path": str(path), **params})
    source.connect()
    return source


def test_a_ragged_csv_row_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9,10,11\n12,13,14\n")
    source = csv_source(path)
    batch = source.read_batch(10)
    source.close()
    assert [json.loads(r.value)["a"] for r in batch.records] == [1, 4, 12]
    assert batch.failures == [
        ReadFailure(
            b"7,8,9,10,11", SerializationError(f"plugin 'csv': {path}:4: 5 cells for 3 columns")
        )
    ]


def test_a_csv_row_that_is_not_utf8_fails_alone_with_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b'a,b\n1,"x\n\xffy"\n2,z\n')
    source = csv_source(path, key_field="a")
    batch = source.read_batch(10)
    source.close()
    assert [r.key for r in batch.records] == [b"2"]
    assert batch.failures == [
        ReadFailure(
            b'1,"x\n\xffy"', SerializationError(f"plugin 'csv': {path}:2: the row is not UTF-8")
        )
    ]


def test_a_short_csv_row_leaves_its_key_out(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1\n2,3\n")
    source = csv_source(path, key_field="b")
    assert [(r.key, json.loads(r.value)) for r in source.read(10)] == [
        (None, {"a": 1}),
        (b"3", {"a": 2, "b": 3}),
    ]
    source.close()


def test_csv_failures_count_toward_the_batch_size(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a\n" + "1,2\n" * 5 + "3\n")
    source = csv_source(path)
    batches, end = drain(source, 2)
    source.close()
    assert [(len(b.records), len(b.failures)) for b in batches] == [(0, 2), (0, 2), (1, 1)]
    assert end == SourceBatch([])
