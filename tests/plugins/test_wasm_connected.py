"""WasmSource and WasmSink (0.1 adapters) over the 0.1 Rust examples gen_source and jsonl_sink.

They load the committed 0.1 builds (tests/fixtures/v0_1), so the 0.1
adapters stay tested after the examples move to 0.2.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dataflare.errors import ConfigurationError, GuestTrap, PluginIoError
from dataflare.model import PluginKind, Record
from dataflare.plugins.wasm import WasmSink, WasmSource, load_wasm_plugin
from dataflare.runtime.limits import Limits
from support.guests import V0_1


@pytest.fixture
def source() -> Iterator[WasmSource]:
    plugin = load_wasm_plugin(V0_1 / "gen_source.rust.wasm", PluginKind.SOURCE)
    assert isinstance(plugin, WasmSource)
    yield plugin
    plugin.close()


@pytest.fixture
def sink() -> Iterator[WasmSink]:
    plugin = load_wasm_plugin(V0_1 / "jsonl_sink.rust.wasm")
    assert isinstance(plugin, WasmSink)
    yield plugin
    plugin.close()


@pytest.mark.guests
def test_source_reads_to_the_end_and_resumes_from_a_checkpoint(source: WasmSource) -> None:
    source.configure({"count": "5", "seed": "7"})
    source.connect()
    first = source.read(2)
    position = source.checkpoint()
    rest = source.read(100)
    assert [r.key for r in first + rest] == [b"0", b"1", b"2", b"3", b"4"]
    assert source.read(100) == []
    assert first[0].metadata == {"source": "gen_source"}
    assert first[1].timestamp == 1_700_000_001_000
    source.restore(position)
    assert source.read(100) == rest
    source.close()
    source.close()


@pytest.mark.guests
def test_source_read_count_must_fit_a_u32(source: WasmSource) -> None:
    source.configure({})
    source.connect()
    with pytest.raises(ValueError, match="u32"):
        source.read(1 << 32)
    assert len(source.read(0)) == 0


@pytest.mark.guests
def test_source_configuration_error_is_mapped(source: WasmSource) -> None:
    with pytest.raises(ConfigurationError, match="count"):
        source.configure({"count": "many"})


@pytest.mark.guests
def test_sink_without_a_granted_directory_fails_with_io_errors(sink: WasmSink) -> None:
    sink.configure({"path": "/out/records.jsonl"})
    with pytest.raises(PluginIoError, match=r"/out/records\.jsonl"):
        sink.connect()
    outcomes = sink.write_batch([Record(b"{}"), Record(b"[]")])
    assert [type(o) for o in outcomes] == [PluginIoError, PluginIoError]
    with pytest.raises(PluginIoError):
        sink.write(Record(b"{}"))


@pytest.mark.guests
def test_after_a_trap_a_source_resumes_from_its_last_checkpoint() -> None:
    # Enough fuel for a handful of records per call, not for thousands.
    source = load_wasm_plugin(
        V0_1 / "gen_source.rust.wasm", "source", limits=Limits(fuel_per_call=1_000_000)
    )
    assert isinstance(source, WasmSource)
    try:
        source.configure({"count": "100000"})
        source.connect()
        source.read(3)
        assert source.checkpoint() == (3).to_bytes(8, "little")
        after = source.read(2)
        with pytest.raises(GuestTrap):
            source.read(50_000)
        assert source.instance.traps == 1
        assert source.read(2) == after  # configured, connected and restored again
    finally:
        source.close()
