"""JSON nested past the decoder's recursion limit is a clean error wherever it is read."""

from __future__ import annotations

import pytest
from dataflare.connectors import CsvSink
from dataflare.connectors._rows import FieldsCodec, envelope_row_to_record
from dataflare.errors import PipelineError, SerializationError
from dataflare.model import Record
from dataflare.pipeline.state import StateFile

DEEP = "[" * 100_000 + "]" * 100_000


def test_a_sql_sink_row_from_deep_json():
    with pytest.raises(SerializationError, match="nested too deeply"):
        FieldsCodec().to_row(Record(value=DEEP.encode()))


def test_deep_metadata_in_a_record_row():
    with pytest.raises(SerializationError, match="the metadata column is nested too deeply"):
        envelope_row_to_record({"value": b"x", "metadata": DEEP})


def test_a_csv_sink_record_of_deep_json(tmp_path):
    sink = CsvSink()
    sink.configure({"path": str(tmp_path / "out.csv")})
    sink.connect()
    try:
        outcomes = sink.write_batch([Record(value=DEEP.encode()), Record(value=b'{"a": 1}')])
    finally:
        sink.close()
    assert isinstance(outcomes[0], SerializationError)
    assert "nested too deeply" in str(outcomes[0])
    assert outcomes[1] is None


def test_a_deep_state_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(DEEP)
    with pytest.raises(PipelineError, match="cannot read the checkpoint file"):
        StateFile(path).read()
