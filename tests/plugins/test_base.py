"""The native base classes: derived batch forms, configure validation, defaults."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from dataflare.errors import ConfigurationError, PluginError, ProcessingError, SerializationError
from dataflare.model import ParamInfo, PluginInfo, PluginKind, Record
from dataflare.plugins import kinds
from dataflare.plugins.base import AggregateBase, FilterBase, SinkBase, SourceBase, TransformBase
from hypothesis import given
from hypothesis import strategies as st

values = st.binary(max_size=8)
records = st.lists(st.builds(Record, value=values), max_size=20)


class EvenLength(FilterBase):
    """Keep values of even length; fail on values starting with 'x'."""

    params = (
        ParamInfo("mode", required=True),
        ParamInfo("limit", default="10"),
        ParamInfo("note"),
    )

    def filter(self, record: Record) -> bool:
        if record.value.startswith(b"x"):
            raise ProcessingError(f"bad {record.value!r}")
        return len(record.value) % 2 == 0


class Upper(TransformBase):
    def transform(self, record: Record) -> Record:
        if record.value.startswith(b"x"):
            raise SerializationError("x")
        return Record(record.value.upper())


class Total(AggregateBase):
    def init(self) -> bytes:
        return b"0"

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        if not record.value.isdigit():
            raise ProcessingError(f"not a number: {record.value!r}")
        return str(int(acc) + int(record.value)).encode()

    def emit(self, acc: bytes) -> list[Record]:
        return [Record(acc)]


class Collect(SinkBase):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[bytes] = []

    def write(self, record: Record) -> None:
        if record.value.startswith(b"x"):
            raise ProcessingError("x")
        self.seen.append(record.value)


class Countdown(SourceBase):
    def read(self, max_records: int) -> list[Record]:
        return []


def expected_outcome(record: Record) -> bool | PluginError:
    if record.value.startswith(b"x"):
        return ProcessingError(f"bad {record.value!r}")
    return len(record.value) % 2 == 0


@given(records)
def test_filter_batch_is_filter_per_record_with_errors_in_place(batch: list[Record]) -> None:
    assert EvenLength().filter_batch(batch) == [expected_outcome(r) for r in batch]


@given(records)
def test_transform_batch_is_transform_per_record(batch: list[Record]) -> None:
    out = Upper().transform_batch(batch)
    assert out == [
        SerializationError("x") if r.value.startswith(b"x") else Record(r.value.upper())
        for r in batch
    ]


@given(st.lists(st.sampled_from([b"1", b"20", b"x", b"", b"7"]), max_size=20))
def test_aggregate_batch_skips_failed_records(values: Sequence[bytes]) -> None:
    plugin = Total()
    acc, outcomes = plugin.aggregate_batch(plugin.init(), [Record(v) for v in values])
    assert acc == str(sum(int(v) for v in values if v.isdigit())).encode()
    assert [o is None for o in outcomes] == [v.isdigit() for v in values]
    assert all(isinstance(o, ProcessingError) for o in outcomes if o is not None)


def test_sink_write_batch_reports_each_record() -> None:
    sink = Collect()
    outcomes = sink.write_batch([Record(b"a"), Record(b"xa"), Record(b"b")])
    assert outcomes == [None, ProcessingError("x"), None]
    assert sink.seen == [b"a", b"b"]


def test_non_plugin_errors_propagate_from_batches() -> None:
    class Buggy(FilterBase):
        def filter(self, record: Record) -> bool:
            raise KeyError("bug")

    with pytest.raises(KeyError):
        Buggy().filter_batch([Record(b"")])


def test_source_defaults_cannot_resume() -> None:
    source = Countdown()
    source.connect()
    assert source.checkpoint() == b""
    source.restore(b"")
    with pytest.raises(ProcessingError, match="cannot resume"):
        source.restore(b"pos")


def test_describe_uses_class_attributes_and_docstring() -> None:
    info = EvenLength().describe()
    assert info == PluginInfo(
        name="EvenLength",
        version="0.1.0",
        kind=PluginKind.FILTER,
        description="Keep values of even length; fail on values starting with 'x'.",
        params=EvenLength.params,
    )


def test_configure_fills_defaults_and_keeps_given_values() -> None:
    plugin = EvenLength()
    plugin.configure({"mode": "strict", "note": "n"})
    assert plugin.config == {"mode": "strict", "limit": "10", "note": "n"}
    assert plugin.param("limit") == "10"


def test_configure_missing_required_names_param_and_plugin() -> None:
    with pytest.raises(ConfigurationError) as info:
        EvenLength().configure({"limit": "3"})
    assert str(info.value) == "plugin 'EvenLength': missing required parameter 'mode'"


def test_configure_unknown_param_lists_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        EvenLength().configure({"mode": "a", "colour": "red", "answer": "42"})
    assert str(info.value) == (
        "plugin 'EvenLength': unknown parameter(s) 'answer', 'colour'; "
        "known parameters: limit, mode, note"
    )


def test_configure_with_no_declared_params_rejects_everything() -> None:
    with pytest.raises(ConfigurationError, match="known parameters: none"):
        Upper().configure({"x": "1"})
    Upper().configure({})


def test_param_before_configure_is_a_configuration_error() -> None:
    plugin = EvenLength()
    assert plugin.param("limit") == "10"
    with pytest.raises(ConfigurationError, match="'mode' is not set"):
        plugin.param("mode")


@pytest.mark.parametrize(
    ("instance", "protocol"),
    [
        (EvenLength(), kinds.FilterPlugin),
        (Upper(), kinds.TransformPlugin),
        (Total(), kinds.AggregatePlugin),
        (Countdown(), kinds.SourcePlugin),
        (Collect(), kinds.SinkPlugin),
    ],
)
def test_bases_satisfy_their_protocol(instance: object, protocol: type) -> None:
    assert isinstance(instance, protocol)


def test_abstract_single_record_method_must_be_written() -> None:
    class Nothing(FilterBase):
        pass

    with pytest.raises(TypeError, match="filter"):
        Nothing()  # type: ignore[abstract]
