"""The columnar JSON Lines path gives what reading and writing line by line gives.

`JsonlSource.read_columns_batch` reads big chunks and checks JSON in bulk;
`_read_lines` is the line-by-line reader it replaced for plain values. Both
must agree on records, failures (raw line, ``file:line`` message), positions
and max_line_bytes errors, whatever the lines (blank, CRLF, bad JSON, deep,
long, not UTF-8) and wherever the chunks end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from dataflare import jsonio
from dataflare.columns import from_records, to_records
from dataflare.connectors import JsonlSink, JsonlSource
from dataflare.connectors._chunked_lines import ChunkedLines
from dataflare.errors import PluginError
from dataflare.json_columns import SAFE_OPENERS, document_failures
from dataflare.model import Record
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

LINE_PIECES = st.sampled_from(
    [
        b'{"a": 1}',
        b"[1,2]",
        b"1,2",
        b"[3",
        b"4]",
        b'"x',
        b'y"',
        b"NaN",
        b" 7 ",
        b"",
        b"   ",
        b"\x0c",
        b"\r",
        b"\r\r",
        b'{"s": "\xff"}',
        b'"\\ud800"',
        b"[" * 300 + b"]" * 300,
        b"9" * 20,
        b"true",
        b"{",
        b'{"a":\r1}',
    ]
)
LINES = st.lists(st.lists(LINE_PIECES, min_size=1, max_size=3).map(b"".join), max_size=25)
ENDS = st.sampled_from([b"\n", b"\r\n"])


def make_source(path: Path, **extra: str) -> JsonlSource:
    source = JsonlSource()
    source.configure({"path": str(path), "resume": "true", **extra})
    source.connect()
    return source


def outcome(read, size):
    try:
        got = read(size)
    except PluginError as exc:
        return ("raised", type(exc), exc.message)
    records = to_records(got.batch) if hasattr(got, "batch") else got.records
    return records, [(f.raw, f.error.message) for f in got.failures]


def read_all(source: JsonlSource, read, size: int) -> list[object]:
    out = []
    try:
        for _ in range(200):
            got = outcome(read, size)
            if got[0] == "raised":  # the run stops: where the source stands does not matter
                out.append((got, None))
                break
            out.append((got, source.checkpoint()))
            if not got[0] and not got[1]:
                break
    finally:
        source.close()
    return out


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=LINES,
    ends=ENDS,
    last_end=st.booleans(),
    size=st.integers(1, 7),
    chunk=st.integers(1, 64),
    max_line=st.sampled_from(["1000", "12"]),
)
@example(lines=[b"a", b"", b"1"], ends=b"\r\n", last_end=False, size=2, chunk=3, max_line="1000")
def test_columns_read_like_lines(tmp_path, lines, ends, last_end, size, chunk, max_line):
    path = tmp_path / "in.jsonl"
    path.write_bytes(ends.join(lines) + (ends if last_end and lines else b""))
    by_line = make_source(path, max_line_bytes=max_line)
    by_chunk = make_source(path, max_line_bytes=max_line)
    assert by_chunk._stream is not None
    by_chunk._chunks = ChunkedLines(by_chunk._stream, chunk=chunk)
    expected = read_all(by_line, by_line._read_lines, size)
    assert read_all(by_chunk, by_chunk.read_columns_batch, size) == expected


def test_a_resumed_source_continues_after_its_position(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(json.dumps({"n": i}).encode() + b"\r\n" for i in range(10)))
    first = make_source(path)
    first.read_columns_batch(4)
    position = first.checkpoint()
    first.close()
    again = make_source(path)
    again.restore(position)
    got = again.read_columns_batch(100)
    again.close()
    assert [json.loads(r.value)["n"] for r in to_records(got.batch)] == list(range(4, 10))


@settings(max_examples=200)
@given(st.lists(st.lists(LINE_PIECES, min_size=1, max_size=3).map(b"".join), max_size=12))
def test_bulk_json_check_agrees_with_check_document(values):
    failures = document_failures(pa.array(values, pa.binary()))
    for row, value in enumerate(values):
        try:
            jsonio.check_document(value)
        except (ValueError, PluginError) as exc:
            assert type(failures[row]) is type(exc)
            assert str(failures[row]) == str(exc)
        else:
            assert row not in failures


def test_deep_and_long_number_values_go_to_python(monkeypatch):
    deep = b"[" * (SAFE_OPENERS + 1) + b"]" * (SAFE_OPENERS + 1)
    monkeypatch.setattr("sys.get_int_max_str_digits", lambda: 10)
    long_int = b"1" * 11
    seen = []
    real = jsonio.check_document
    monkeypatch.setattr(jsonio, "check_document", lambda v: (seen.append(v), real(v)))
    document_failures(pa.array([b"1", deep, long_int, b'"' + b"2" * 11 + b'"'], pa.binary()))
    assert seen == [deep, long_int, b'"' + b"2" * 11 + b'"']


@pytest.mark.parametrize(
    "values",
    [
        [b'{"a":1}', b"[2]"],
        [b'{"a":1}', b"not json", b"3"],
        [b'{"a":\n1}', b'"x"'],
        [b"{\r}", b"\xff"],
    ],
)
def test_sink_columns_write_what_records_write(tmp_path, values):
    def written(write) -> tuple[bytes, list[tuple[int, str]]]:
        sink = JsonlSink()
        path = tmp_path / "out.jsonl"
        sink.configure({"path": str(path)})
        sink.connect()
        errors = write(sink)
        sink.close()
        return path.read_bytes(), errors

    records = [Record(value=v) for v in values]
    by_record = written(
        lambda s: [(i, e.message) for i, e in enumerate(s.write_batch(records)) if e is not None]
    )
    by_columns = written(
        lambda s: sorted((i, e.message) for i, e in s.write_columns(from_records(records)).items())
    )
    assert by_columns == by_record
