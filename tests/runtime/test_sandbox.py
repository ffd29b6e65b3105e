"""The sandbox grants nothing; guest logs and output land in Python logging."""

from __future__ import annotations

import enum
import logging

import pytest
from dataflare.runtime.instance import PluginInstance, RawExports
from dataflare.runtime.sandbox import TRACE, GuestOutput, PluginLog
from hypothesis import given
from hypothesis import strategies as st

from runtime.conftest import run_filter

LOGGER = "dataflare.plugin.probe"


@pytest.fixture
def probe_instance(probe_loaded):
    with PluginInstance(probe_loaded, RawExports, name="probe", stage="s1") as instance:
        yield instance


def plugin_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def test_guest_cannot_read_files(probe_instance, caplog):
    caplog.set_level(TRACE, logger=LOGGER)
    assert run_filter(probe_instance, b"read-file") is False
    messages = [r.getMessage() for r in plugin_records(caplog)]
    assert "cannot read /etc/passwd: FileNotFoundError" in messages
    assert "cannot list /: FileNotFoundError" in messages
    assert not [m for m in messages if m.startswith("read ")]


def test_guest_sees_no_environment_or_arguments(probe_instance, caplog, monkeypatch):
    monkeypatch.setenv("DATAFLARE_SECRET", "do-not-leak")
    caplog.set_level(logging.INFO, logger=LOGGER)
    assert run_filter(probe_instance, b"env") is False
    assert [r.getMessage() for r in plugin_records(caplog)] == ["env={} argv=[]"]


def test_log_import_reaches_logging_with_plugin_and_stage(probe_instance, caplog):
    caplog.set_level(TRACE, logger=LOGGER)
    assert run_filter(probe_instance, b"log") is True
    got = [(r.levelno, r.getMessage(), r.stage, r.plugin) for r in plugin_records(caplog)]
    assert got == [
        (TRACE, "probe trace", "s1", "probe"),
        (logging.DEBUG, "probe debug", "s1", "probe"),
        (logging.INFO, "probe info", "s1", "probe"),
        (logging.WARNING, "probe warn", "s1", "probe"),
        (logging.ERROR, "probe error", "s1", "probe"),
    ]


def test_stdout_and_stderr_are_captured_as_log_lines(probe_instance, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    assert run_filter(probe_instance, b"print") is True
    got = [(r.levelno, r.stream, r.getMessage()) for r in plugin_records(caplog)]
    assert got == [
        (logging.INFO, "stdout", "probe says hello on stdout"),
        (logging.WARNING, "stderr", "probe says hello on stderr"),
    ]


def test_a_raising_log_handler_does_not_hurt_the_guest(probe_instance, caplog):
    class Explode(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            raise RuntimeError("handler bug")

    logger = logging.getLogger(LOGGER)
    boom = Explode()
    logger.addFilter(boom)
    try:
        assert run_filter(probe_instance, b"log") is True
        assert run_filter(probe_instance, b"keep") is True
    finally:
        logger.removeFilter(boom)
    assert probe_instance.traps == 0
    assert any("dropping a log line" in r.getMessage() for r in caplog.records)


class Sink:
    """A PluginLog stand-in recording emitted lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.log = PluginLog("unit")
        self.log.logger = logging.getLogger("test.guest-output")
        self.log.logger.propagate = False
        self.log.logger.handlers = [self._Handler(self.lines)]
        self.log.logger.setLevel(logging.DEBUG)

    class _Handler(logging.Handler):
        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage())


@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=8), st.data())
def test_output_lines_survive_any_chunking(lines, data):
    sink = Sink()
    out = GuestOutput(sink.log, "stdout", logging.INFO, max_line=1000, max_bytes=10_000)
    blob = b"".join(line + b"\n" for line in lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=6)))
    for start, end in zip([0, *cuts], [*cuts, len(blob)], strict=True):
        out.write(blob[start:end])
    out.flush()
    # CRLF line ends are normalised: a trailing "\r" is dropped
    assert sink.lines == [line.decode("utf-8", "replace").rstrip("\r") for line in lines]


def test_output_is_bounded_per_call():
    sink = Sink()
    out = GuestOutput(sink.log, "stdout", logging.INFO, max_line=10, max_bytes=25)
    out.write(b"0123456789abcdef\nxyz")
    out.write(b"more than the budget allows\n")
    out.flush()
    assert sink.lines == [
        "0123456789",
        "abcdef",
        "xyzmore ",  # the budget ran out mid-chunk: the rest is dropped
        "23 bytes of stdout output dropped (limit 25 bytes per call)",
    ]
    out.write(b"new call\n")
    assert sink.lines[-1] == "new call"


def test_plugin_log_maps_levels_and_never_raises(caplog):
    class Level(enum.Enum):
        WARN = 3

    log = PluginLog("unit-levels", "stage-9")
    caplog.set_level(TRACE, logger="dataflare.plugin.unit-levels")
    log.log(Level.WARN, "from an enum")
    log.log("trace", "from a string")
    log.log("no-such-level", "x" * 20_000)
    got = [(r.levelno, r.getMessage()[:12], r.stage) for r in caplog.records]
    assert got == [
        (logging.WARNING, "from an enum", "stage-9"),
        (TRACE, "from a strin", "stage-9"),
        (logging.INFO, "xxxxxxxxxxxx", "stage-9"),
    ]
    assert caplog.records[-1].getMessage().endswith("[3616 chars cut]")


def test_a_host_callback_that_raises_anyway_only_costs_the_instance(probe_loaded, monkeypatch):
    def broken(self: PluginLog, level: object, message: str) -> None:
        raise RuntimeError("host bug")

    monkeypatch.setattr(PluginLog, "log", broken)
    with PluginInstance(probe_loaded, RawExports, name="probe") as instance:
        with pytest.raises(RuntimeError, match="host bug"):
            run_filter(instance, b"log")
        assert instance.traps == 1
        assert run_filter(instance, b"keep") is True


def test_log_import_keeps_a_budget_per_call_and_reports_the_rest(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    log = PluginLog("probe", "s1", max_chars=10)
    for text in ("12345", "12345", "x", "yy"):
        log.log("info", text)
    log.flush()
    assert [r.getMessage() for r in plugin_records(caplog)] == [
        "12345",
        "12345",
        "2 log lines (3 chars) dropped (limit 10 chars of log messages per call)",
    ]
    caplog.clear()
    log.log("info", "again")  # flush started a new budget
    log.flush()
    assert [r.getMessage() for r in plugin_records(caplog)] == ["again"]
