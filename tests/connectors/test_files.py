"""JSON Lines and CSV connectors, driven directly through the plugin protocol."""

from __future__ import annotations

import json

import pytest
from dataflare.connectors import CsvSink, CsvSource, JsonlSink, JsonlSource
from dataflare.errors import ConfigurationError, SerializationError
from dataflare.model import Record
from dataflare.record_json import decode_envelope, encode_envelope
from hypothesis import given
from hypothesis import strategies as st


def read_all(source, batch=3):
    source.connect()
    out = []
    try:
        while chunk := source.read(batch):
            assert len(chunk) <= batch
            out.extend(chunk)
    finally:
        source.close()
    return out


def test_jsonl_source_reads_lines_as_values(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\n   \n{"a": 2}\n{"a": 3}')
    source = JsonlSource()
    source.configure({"path": str(path)})
    assert [r.value for r in read_all(source)] == [
        b'{"a": 1}',
        b'{"a": 2}',
        b'{"a": 3}',
    ]
    assert source.checkpoint() == b""


def test_jsonl_source_key_and_timestamp_fields(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "x", "ts": 5}\n{"id": 7}\n{"other": 1}\n')
    source = JsonlSource()
    source.configure({"path": str(path), "key_field": "id", "timestamp_field": "ts"})
    records = read_all(source)
    assert [(r.key, r.timestamp) for r in records] == [(b"x", 5), (b"7", None), (None, None)]


def test_jsonl_source_field_on_bad_line_names_the_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1}\n{oops\n')
    source = JsonlSource()
    source.configure({"path": str(path), "key_field": "id"})
    source.connect()
    with pytest.raises(SerializationError, match=r"in\.jsonl:2: invalid JSON"):
        source.read(10)
    source.close()


def test_jsonl_source_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="input file not found"):
        JsonlSource().configure({"path": str(tmp_path / "nope.jsonl")})


def test_jsonl_sink_writes_values_and_rejects_non_json(tmp_path):
    sink = JsonlSink()
    sink.configure({"path": str(tmp_path / "sub" / "out.jsonl")})
    sink.connect()
    outcomes = sink.write_batch(
        [Record(b'{"a": 1}'), Record(b"nope"), Record(b'{\n  "b": [1,\n 2]\n}')]
    )
    sink.close()
    sink.close()
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], SerializationError)
    assert (tmp_path / "sub" / "out.jsonl").read_text() == '{"a": 1}\n{"b":[1,2]}\n'


def test_jsonl_sink_append_mode(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"old": 1}\n')
    sink = JsonlSink()
    sink.configure({"path": str(path), "mode": "append"})
    sink.connect()
    sink.write(Record(b'{"new": 2}'))
    sink.close()
    assert path.read_text() == '{"old": 1}\n{"new": 2}\n'


def test_jsonl_record_format_round_trips(tmp_path):
    records = [
        Record(b"\xff\x00binary", key=b"k", timestamp=-3, metadata={"z": "1", "a": "2"}),
        Record(b'{"json": true}', key=None, timestamp=None),
    ]
    sink = JsonlSink()
    sink.configure({"path": str(tmp_path / "r.jsonl"), "format": "record"})
    sink.connect()
    assert sink.write_batch(records) == [None, None]
    sink.close()
    source = JsonlSource()
    source.configure({"path": str(tmp_path / "r.jsonl"), "format": "record"})
    assert read_all(source) == records


def test_bad_format_parameter(tmp_path):
    with pytest.raises(ConfigurationError, match="format must be one of value, record; got 'xml'"):
        JsonlSink().configure({"path": str(tmp_path / "o"), "format": "xml"})


def test_csv_round_trip_with_types(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,name,score,note\n1,ada,9.5,"hello, world"\n2,alan,-3,007x\n')
    source = CsvSource()
    source.configure({"path": str(path), "key_field": "name"})
    records = read_all(source)
    assert [json.loads(r.value) for r in records] == [
        {"id": 1, "name": "ada", "score": 9.5, "note": "hello, world"},
        {"id": 2, "name": "alan", "score": -3, "note": "007x"},
    ]
    assert [r.key for r in records] == [b"ada", b"alan"]
    sink = CsvSink()
    sink.configure({"path": str(tmp_path / "out.csv")})
    sink.connect()
    assert sink.write_batch(records) == [None, None]
    sink.close()
    assert (tmp_path / "out.csv").read_text() == path.read_text()


def test_csv_sink_rejects_unknown_fields_and_non_objects(tmp_path):
    sink = CsvSink()
    sink.configure({"path": str(tmp_path / "out.csv"), "columns": "a,b"})
    sink.connect()
    outcomes = sink.write_batch(
        [Record(b'{"a": 1}'), Record(b'{"c": 1}'), Record(b"[1]"), Record(b'{"b": {"x": 1}}')]
    )
    sink.close()
    assert outcomes[0] is None and outcomes[3] is None
    assert "field(s) c are not columns (columns: a, b)" in str(outcomes[1])
    assert "expected a JSON object, got list" in str(outcomes[2])
    assert (tmp_path / "out.csv").read_text() == 'a,b\n1,\n,"{""x"": 1}"\n'


def test_csv_append_keeps_the_existing_header(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("b,a\n1,2\n")
    sink = CsvSink()
    sink.configure({"path": str(path), "mode": "append"})
    sink.connect()
    sink.write(Record(b'{"a": 3, "b": 4}'))
    sink.close()
    assert path.read_text() == "b,a\n1,2\n4,3\n"


metadata = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4)
records = st.builds(
    Record,
    value=st.binary(max_size=40) | st.text(max_size=40).map(str.encode),
    key=st.none() | st.binary(max_size=10),
    timestamp=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    metadata=metadata,
)


@given(record=records)
def test_envelope_round_trips_exactly(record):
    encoded = json.loads(json.dumps(encode_envelope(record)))
    decoded = decode_envelope(encoded)
    assert decoded == record
    assert list(decoded.metadata) == list(record.metadata)
