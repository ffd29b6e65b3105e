"""JSON Lines sources and sinks: files (``jsonl``) and the standard streams (``stdin``, ``stdout``).

Reading (``format: value``, the default): each non-blank line is one
record's value, as is (bytes unchanged), once it has been checked to be one
JSON document. With ``format: record`` each line is a record envelope
(`dataflare.record_json`), as the sink writes it. A line that does
not decode (not UTF-8, not JSON, nested too deeply, a bad envelope, a
``key_field`` that cannot be read) fails alone: it is reported beside the
good records (`SourceBatch`), named ``file:line``, and follows the source's
``on_error`` with the line's bytes as the dead letter's value.

Writing (``format: value``): each record's value must be one JSON document;
it is written on one line (re-serialised compactly only if it spans lines).
A value that is not JSON fails that record. ``format: record`` writes the
whole record (key, value, timestamp, metadata) as an envelope: the natural
format for dead letters. A batch is written with one call and made durable
by `flush` (fsync for files). A ``jsonl`` file sink is exactly once across
crashes: on a resumed run it is cut back to the size the checkpoint
recorded and appended to, whatever its ``mode`` (a fresh run follows
``mode``).

Plain lines (``format: value`` without ``key_field`` or ``timestamp_field``)
take the columnar path: the input is read in big chunks, cut into an Arrow
column (`_chunked_lines`) and checked as JSON in bulk
(`dataflare.json_columns`), with the same verdicts, messages and positions
as line by line; the sink writes a batch's values with one join. Other
formats go record by record.

A ``jsonl`` file is read whole on every run unless ``resume: true``: then
its checkpoint is the file (name, identity, a digest of its first bytes), the
byte offset and line after the last line read, and a rerun continues there
(lines appended since are read; a file replaced by a shorter one is an
error). ``path`` may be a glob, read in name order
(`dataflare.connectors._file_series`). With ``follow: true`` the source
never ends: at the end of the input it answers `PENDING` until more is
appended, a last line waits for its newline, a file renamed away (rotated)
is read to its end before the new file at the path, and a glob's later
matches are read as they appear; ``follow`` implies ``resume`` unless
``resume: false`` is given. ``stdin`` has no position.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dataflare import jsonio
from dataflare.columns import (
    PENDING,
    Pending,
    RecordError,
    empty_batch,
    from_records,
    from_values,
    to_records,
)
from dataflare.connectors._chunked_lines import ChunkedLines, LineTooLong
from dataflare.connectors._file_partitions import (
    RangeFile,
    file_partitions,
    parse_byte_range,
    parse_split_bytes,
)
from dataflare.connectors._file_series import (
    FileId,
    FilePosition,
    FileSeries,
    head_digest,
    is_glob,
)
from dataflare.connectors._resume import Resume, close_durably, size_of, sync
from dataflare.errors import (
    ConfigurationError,
    PluginError,
    PluginIoError,
    ProcessingError,
    SerializationError,
)
from dataflare.json_columns import document_failures, is_checked, mark_checked
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import SinkBase, SourceBase
from dataflare.plugins.kinds import ReadFailure, SourceBatch, SourceColumns
from dataflare.plugins.registry import register
from dataflare.record_json import decode_envelope, encode_envelope

__all__ = ["JsonlSink", "JsonlSource", "StdinSource", "StdoutSink"]

_log = logging.getLogger("dataflare.connectors")

_FORMAT = ParamInfo(
    "format", "value (a line is a value) or record (a line is a record envelope)", default="value"
)
_PATH_GLOB = ParamInfo(
    "path", "the file to read, or a glob (in-*.jsonl) read in name order", required=True
)
_PATH_OUT = ParamInfo("path", "the file to write", required=True)
_MODE = ParamInfo("mode", "overwrite or append", default="overwrite")
_KEY = ParamInfo("key_field", "a top-level JSON field whose value becomes the record key")
_TS = ParamInfo("timestamp_field", "a top-level JSON field holding epoch milliseconds")
MAX_LINE_BYTES = 16 << 20
MAX_LINE_LIMIT = (1 << 32) - 1
"""The largest `max_line_bytes`: a record value (WIT list<u8>) has a u32 length."""
_DIGITS = re.compile(r"[0-9]{1,20}")
"""Default longest input line: a longer one stops the read instead of filling memory."""
_RESUME = ParamInfo(
    "resume", "true: a rerun continues after the last line committed", default="false"
)
_FOLLOW = ParamInfo(
    "follow",
    "true: tail the file (and new glob matches) until stopped; implies resume",
    default="false",
)
_MAX_LINE = ParamInfo(
    "max_line_bytes", "longest line accepted, in bytes", default=str(MAX_LINE_BYTES)
)
_SPLIT = ParamInfo(
    "split_bytes",
    "on the Dask engine: cut a file bigger than this into line-aligned partitions (0: never)",
    default="0",
)
_BYTE_RANGE = ParamInfo(
    "byte_range",
    "START-END[:LINES]: read only these bytes of the file, LINES lines into it (set by the "
    "Dask engine)",
)


_BOOL = ("true", "false")


def _choice(plugin: str, name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigurationError(
            f"plugin {plugin!r}: {name} must be one of {', '.join(choices)}; got {value!r}",
            param=name,
        )
    return value


json_document = jsonio.document
"""The sink's check that a value is one JSON document (see `jsonio.document`)."""

check_json_document = jsonio.check_document
"""The same check without keeping the parsed tree (see `jsonio.check_document`)."""


def _not_json(where: str, error: ValueError | SerializationError) -> SerializationError:
    """A line's failure as `_LineSource._parse` words it."""
    if isinstance(error, SerializationError):
        return SerializationError(f"{where}: {error.message}")
    return SerializationError(f"{where}: invalid JSON: {error}")


class _LineSource(SourceBase):
    """Reads JSON Lines from a binary stream opened by `_open`."""

    params: ClassVar[tuple[ParamInfo, ...]] = (_FORMAT, _KEY, _TS, _MAX_LINE)

    def __init__(self) -> None:
        super().__init__()
        self._stream: IO[bytes] | None = None
        self._chunks: ChunkedLines | None = None
        self._line = 0
        self._offset = 0
        self._max_line = MAX_LINE_BYTES
        self._final = True
        """Whether the input's current end is its end (false: a followed file may grow)."""

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters."""
        super().configure(config)
        _choice(self._plugin_name(), "format", self.param("format"), ("value", "record"))
        text = self.param("max_line_bytes")
        # ASCII digits only ("²".isdigit() is true, int("²") fails), and bounded:
        # a record's value is a WIT list<u8>, and readline takes a C ssize_t.
        if not _DIGITS.fullmatch(text) or not 0 < int(text) <= MAX_LINE_LIMIT:
            raise ConfigurationError(
                f"plugin {self._plugin_name()!r}: max_line_bytes must be an integer from 1 to "
                f"{MAX_LINE_LIMIT}; got {text!r}"
            )
        self._max_line = int(text)
        if self.param("format") == "record" and (
            self.config.get("key_field") or self.config.get("timestamp_field")
        ):
            raise ConfigurationError(
                f"plugin {self._plugin_name()!r}: key_field and timestamp_field need format: value"
            )

    def _open(self) -> IO[bytes]:
        raise NotImplementedError

    def connect(self) -> None:
        """Open the input."""
        self._stream = self._open()
        self._restart()

    def _columnar(self) -> bool:
        """Whether lines are values as they are, so a chunk needs no per-line parse."""
        return self.config["format"] == "value" and not (
            self.config.get("key_field") or self.config.get("timestamp_field")
        )

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` records from the next non-blank lines; a bad line raises."""
        return self.read_batch(max_records).records_or_raise()

    def read_columns_batch(self, max_records: int) -> SourceColumns | Pending:
        """`read_batch` as a column batch; plain lines never become Python objects."""
        return self._read_current(max_records)

    def _read_current(self, max_records: int) -> SourceColumns:
        """The next lines of the stream open now, as a column batch."""
        if self._chunks is None:
            read = self._read_lines(max_records)
            return SourceColumns(from_records(read.records), read.failures)
        try:
            lines = self._chunks.take(max_records, self._max_line, self._line + 1)
        except LineTooLong as exc:
            self._line = exc.line
            raise SerializationError(
                f"{self._where()}: line longer than max_line_bytes={self._max_line} bytes; "
                "raise max_line_bytes if such lines are expected"
            ) from None
        except OSError as exc:
            raise PluginIoError(f"{self._where()}: {exc}") from exc
        values = lines.values
        failures = []
        bad = document_failures(values)
        if bad:
            for row, error in sorted(bad.items()):
                where = f"{self._input()}:{int(lines.numbers[row])}"
                failures.append(ReadFailure(values[row].as_py(), _not_json(where, error)))
            keep = np.ones(len(values), bool)
            keep[list(bad)] = False
            values = values.filter(pa.array(keep))
        self._line += lines.lines
        self._offset += lines.consumed
        return SourceColumns(mark_checked(from_values(values)), failures)

    def read_batch(self, max_records: int) -> SourceBatch:
        """The next non-blank lines (up to `max_records`) as records, bad lines beside them."""
        read = self.read_columns_batch(max_records)
        if isinstance(read, Pending):
            return SourceBatch([])  # record by record, "nothing yet" cannot be said
        return SourceBatch(to_records(read.batch), read.failures)

    def _read_lines(self, max_records: int) -> SourceBatch:
        """The next non-blank lines (up to `max_records`) as records, bad lines beside them.

        A bad line counts toward `max_records`, so a file of bad lines is
        still read a batch at a time. A line longer than ``max_line_bytes``
        stops the read: it was not read whole, so there is no line to keep.
        """
        if self._stream is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: read before connect")
        batch = SourceBatch([])
        while len(batch.records) + len(batch.failures) < max_records:
            try:
                # Bounded: a huge line must not be read into memory whole.
                raw = self._stream.readline(self._max_line + 2)
            except OSError as exc:
                raise PluginIoError(f"{self._where()}: {exc}") from exc
            if not raw:
                break
            if not self._final and not raw.endswith(b"\n") and len(raw) <= self._max_line:
                self._stream.seek(self._offset)  # unfinished: read again once it has its end
                break
            self._line += 1
            self._offset += len(raw)
            if len(raw.rstrip(b"\r\n")) > self._max_line:
                raise SerializationError(
                    f"{self._where()}: line longer than max_line_bytes={self._max_line} bytes; "
                    "raise max_line_bytes if such lines are expected"
                )
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                batch.records.append(self._record(line))
            except PluginError as exc:
                batch.failures.append(ReadFailure(line, exc))
        return batch

    def _record(self, line: bytes) -> Record:
        if self.config["format"] == "record":
            envelope = self._parse(line)
            try:
                return decode_envelope(envelope)
            except SerializationError as exc:
                raise SerializationError(f"{self._where()}: {exc.message}") from exc
        key_field = self.config.get("key_field")
        ts_field = self.config.get("timestamp_field")
        if not key_field and not ts_field:
            # Refused here, where the line is known, not in a later stage; only
            # checked, so a big line does not become a tree many times its size.
            self._parse(line, keep=False)
            return Record(value=line)
        doc = self._parse(line)
        if not isinstance(doc, dict):
            raise SerializationError(f"{self._where()}: expected a JSON object to read fields from")
        key = None
        if key_field and doc.get(key_field) is not None:
            found = doc[key_field]
            key = (
                found
                if isinstance(found, str)
                else jsonio.dumps(found, f"{self._where()}: {key_field!r}")
            ).encode("utf-8")
        timestamp = None
        if ts_field and doc.get(ts_field) is not None:
            found = doc[ts_field]
            if isinstance(found, bool) or not isinstance(found, int):
                raise SerializationError(
                    f"{self._where()}: {ts_field!r} must be integer milliseconds, got "
                    f"{str(found)[:40]}"
                )
            timestamp = found
        return Record(value=line, key=key, timestamp=timestamp)

    def _parse(self, line: bytes, *, keep: bool = True) -> object:
        """The line's JSON document (None with `keep=False`: only checked)."""
        try:
            if not keep:
                jsonio.check_document(line)
                return None
            return jsonio.document(line)
        except ValueError as exc:
            raise SerializationError(f"{self._where()}: invalid JSON: {exc}") from exc
        except SerializationError as exc:
            raise SerializationError(f"{self._where()}: {exc.message}") from None

    def _input(self) -> str:
        """What is read, as error messages name it."""
        return self._plugin_name()

    def _restart(self) -> None:
        """After a seek: the chunks buffered are not what follows."""
        stream = self._stream
        columnar = stream is not None and self._columnar()
        self._chunks = (
            ChunkedLines(stream, final=self._final) if stream is not None and columnar else None
        )

    def _where(self) -> str:
        return f"{self._input()}:{self._line}"

    def close(self) -> None:
        """Close the input (safe twice)."""
        stream, self._stream = self._stream, None
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()


@register("source", "jsonl")
class JsonlSource(_LineSource):
    """Reads JSON Lines files (a path or a glob, followed or not): one record per non-blank line."""

    params = (_PATH_GLOB, _FORMAT, _KEY, _TS, _MAX_LINE, _RESUME, _FOLLOW, _SPLIT, _BYTE_RANGE)

    def __init__(self) -> None:
        super().__init__()
        self._series: FileSeries | None = None
        self._file: str | None = None
        """The file being read (or last read), as matched."""
        self._id: FileId | None = None
        self._follow = False
        self._resumes = False
        self._range: tuple[int, int, int] | None = None
        """With ``byte_range``: the only bytes of the file read."""

    def _input(self) -> str:
        return self._file or self.param("path")

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters; the input file (or, unless followed, a match) must exist now."""
        super().configure(config)
        self._follow = _choice("jsonl", "follow", self.param("follow"), _BOOL) == "true"
        resume = _choice("jsonl", "resume", self.param("resume"), _BOOL)
        # a followed file is read for weeks: reading it again from the start is never wanted
        self._resumes = resume == "true" or (self._follow and "resume" not in config)
        parse_split_bytes("jsonl", self.param("split_bytes"))
        self._range = parse_byte_range("jsonl", self.config.get("byte_range", ""))
        path = self.param("path")
        if self._range is not None and (
            self._follow or len(FileSeries(path, follow=False).matches()) > 1
        ):
            raise ConfigurationError(
                "plugin 'jsonl': byte_range reads part of one file: not with follow or a glob",
                param="byte_range",
            )
        if is_glob(path):
            if not self._follow and not FileSeries(path, follow=False).matches():
                raise ConfigurationError(
                    f"plugin 'jsonl': no file matches {path} (with follow: true the source "
                    "waits for one)",
                    param="path",
                )
        elif not os.path.isfile(path):
            raise ConfigurationError(f"plugin 'jsonl': input file not found: {path}", param="path")

    def connect(self) -> None:
        """Open the first file (a followed glob may have none yet)."""
        self._final = not self._follow
        self._series = FileSeries(self.param("path"), follow=self._follow)
        first = self._series.first()
        if first is None:
            if not self._follow:
                raise PluginIoError(f"plugin 'jsonl': no file matches {self.param('path')}")
            return
        if not self._switch(first):
            raise PluginIoError(f"plugin 'jsonl': cannot open {first}: it vanished")

    def unbounded(self) -> bool:
        """With ``follow: true`` the stream never ends: the run goes on until stopped."""
        return self._follow

    def partitions(self) -> list[dict[str, str]]:
        """Dask partitions: one per matching file, big files cut by ``split_bytes``.

        A followed source never ends, so it is not split (one partition).
        """
        if self._follow or self._range is not None:
            return []
        split = parse_split_bytes("jsonl", self.param("split_bytes"))
        return file_partitions(self.param("path"), split, ranges=True)

    def read_columns_batch(self, max_records: int) -> SourceColumns | Pending:
        """The next lines, from the next file when one is read to its end.

        `PENDING` while a followed input has nothing new.
        """
        while True:
            read = self._read_current(max_records) if self._stream is not None else None
            if read is not None and not read.empty:
                return read
            nothing = self._next_file()
            if nothing is not None:
                return nothing

    def _next_file(self) -> SourceColumns | Pending | None:
        """At the end of the file being read: move on (None), wait (`PENDING`) or end."""
        assert self._series is not None
        following = (
            self._series.first() if self._file is None else self._series.after(self._file, self._id)
        )
        if following is None:
            if not self._follow:
                return SourceColumns(empty_batch())
            return None if self._truncated() else PENDING
        if not self._final:
            # another file took over: this one is complete, its unfinished last line too
            self._final = True
            if self._chunks is not None:
                self._chunks.final = True
            return None
        if not self._switch(following):
            return PENDING  # gone again before it could be opened
        return None

    def _truncated(self) -> bool:
        """A followed file cut shorter than what was read (copytruncate) is read again from 0."""
        if self._stream is None:
            return False
        try:
            size = os.fstat(self._stream.fileno()).st_size
        except OSError as exc:
            raise PluginIoError(f"plugin 'jsonl': {self._input()}: {exc}") from exc
        if size < self._offset:
            _log.warning(
                "%s shrank to %d bytes (truncated in place): reading it again from its start",
                self._input(),
                size,
            )
            self._seek(0, 0)
            return True
        return False

    def _switch(self, path: str) -> bool:
        """Read `path` from its start from now on; False when it is gone (followed input)."""
        try:
            stream = open(path, "rb")  # noqa: SIM115 - kept open across reads
        except FileNotFoundError:
            if self._follow:
                return False
            raise PluginIoError(f"plugin 'jsonl': cannot open {path}: it vanished") from None
        except OSError as exc:
            raise PluginIoError(f"plugin 'jsonl': cannot open {path}: {exc.strerror}") from exc
        start = line = 0
        if self._range is not None:
            start, end, line = self._range
            stream = RangeFile(stream, start, end)
        old, self._stream = self._stream, stream
        if old is not None:
            old.close()
        self._file, self._id = path, FileId.of(os.fstat(stream.fileno()))
        self._final = not self._follow
        self._offset, self._line = start, line
        self._restart()
        return True

    def _seek(self, offset: int, line: int) -> None:
        assert self._stream is not None
        size = os.fstat(self._stream.fileno()).st_size
        if offset > size:
            raise ProcessingError(
                f"plugin 'jsonl': the saved position (byte {offset}) is past the end of "
                f"{self._input()} ({size} bytes): was the file replaced?"
            )
        self._stream.seek(offset)
        self._restart()
        self._offset, self._line = offset, line

    def checkpoint(self) -> bytes:
        """With ``resume`` (or ``follow``): the file (name, identity), offset and line, as JSON."""
        if not self._resumes:
            return b""
        head = None
        if self._stream is not None and self._file is not None:
            head = head_digest(self._stream.fileno(), self._offset)
        return FilePosition(self._file, self._id, self._offset, self._line, head).encode()

    def restore(self, position: bytes) -> None:
        """Continue after a position from `checkpoint`, in the file it names.

        The file is found by its identity, even renamed (rotated); when it is
        gone, reading starts at the file after it (by name), or at the start
        of a followed path, with a warning.
        """
        if not position:
            return
        assert self._series is not None
        saved = FilePosition.decode(position, "jsonl")
        if saved.path is None:
            if saved.offset or saved.line:  # an offset into the one file, as first versions saved
                if self._stream is None:
                    raise PluginIoError("plugin 'jsonl': restore before connect")
                self._seek(saved.offset, saved.line)
            return
        found = self._series.find(saved)
        if found is None and not self._series.glob and not self._follow:
            found = saved.path  # `resume` as before: the same path, appended to
        if found is None:
            following = self._series.after_gone(saved)
            _log.warning(
                "the file of the saved position (%s, byte %d) is gone; reading %s from its start",
                saved.path,
                saved.offset,
                following or "the next file that appears",
            )
            if following is None:
                self._file, self._id = saved.path, saved.file
                self._close_stream()
            elif following != self._file:
                self._switch(following)
            return
        moved = found != self._file or saved.file not in (None, self._id)
        if moved and not self._switch(found):
            raise PluginIoError(f"plugin 'jsonl': cannot open {found}: it vanished")
        self._seek(saved.offset, saved.line)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._chunks = None
        if stream is not None:
            stream.close()


@register("source", "stdin")
class StdinSource(_LineSource):
    """Reads JSON Lines from standard input."""

    def _open(self) -> IO[bytes]:
        return sys.stdin.buffer

    def _input(self) -> str:
        return "<stdin>"


def _unwritable(error: ValueError | SerializationError) -> SerializationError:
    """A value's failure as `_LineSink._line` words it."""
    if isinstance(error, SerializationError):
        return error
    return SerializationError(
        f"the value is not JSON ({error}); use format: record to write any bytes"
    )


def _without(rows: int, errors: Mapping[int, object]) -> pa.Array[Any]:
    keep = np.ones(rows, bool)
    keep[list(errors)] = False
    return pa.array(keep)


def _spans_lines(values: pa.Array[Any]) -> bool:
    """Whether some value holds a line end (checked on the column's bytes at C speed)."""
    data = values.buffers()[2]
    if data is None or not len(values):
        return False
    offsets = np.frombuffer(values.buffers()[1], np.int32, len(values) + 1, values.offset * 4)
    used = data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
    return b"\n" in used or b"\r" in used  # a copy and two memchr beat a numpy scan


class _LineSink(SinkBase):
    """Writes JSON Lines to a binary stream opened by `_open`."""

    params: ClassVar[tuple[ParamInfo, ...]] = (_FORMAT,)

    def __init__(self) -> None:
        super().__init__()
        self._stream: IO[bytes] | None = None

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters."""
        super().configure(config)
        _choice(self._plugin_name(), "format", self.param("format"), ("value", "record"))

    def _open(self) -> IO[bytes]:
        raise NotImplementedError

    def connect(self) -> None:
        """Open the output."""
        self._stream = self._open()

    def write(self, record: Record) -> None:
        """Write one record as one line."""
        outcome = self.write_batch([record])[0]
        if outcome is not None:
            raise outcome

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Encode each record (a bad one fails alone), then write the good ones in one call."""
        if self._stream is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: write before connect")
        lines: list[bytes] = []
        outcomes: list[PluginError | None] = []
        for record in records:
            try:
                lines.append(self._line(record))
                outcomes.append(None)
            except PluginError as exc:
                outcomes.append(exc)
        if lines:
            try:
                self._stream.write(b"".join(lines))
            except OSError as exc:
                raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}") from exc
        return outcomes

    def write_columns(self, batch: pa.RecordBatch) -> Mapping[int, RecordError]:
        """Write a batch: values checked in bulk, the good ones joined and written at once."""
        if self._stream is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: write before connect")
        if self.config["format"] == "record":
            outcomes = self.write_batch(to_records(batch))
            return {i: e for i, e in enumerate(outcomes) if e is not None}
        values = batch.column(1)
        errors: dict[int, RecordError] = {}
        if not is_checked(batch):  # e.g. straight from a JSON Lines source: checked there
            errors = {row: _unwritable(e) for row, e in document_failures(values).items()}
        good = values if not errors else values.filter(_without(len(values), errors))
        if _spans_lines(good):
            # a value spanning lines is re-serialised: rare, so record by record
            lines = [self._line(Record(value=v)) for v in good.to_pylist()]
            self._put(b"".join(lines))
        elif len(good):
            whole = pa.ListArray.from_arrays(pa.array([0, len(good)], pa.int32()), good)
            self._put(pc.binary_join(whole, b"\n")[0].as_buffer(), b"\n")
        return errors

    def _put(self, *parts: bytes | pa.Buffer) -> None:
        assert self._stream is not None
        try:
            for part in parts:
                self._stream.write(part)
        except OSError as exc:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}") from exc

    def _line(self, record: Record) -> bytes:
        if self.config["format"] == "record":
            envelope = encode_envelope(record)
            try:
                return json.dumps(envelope, ensure_ascii=False).encode("utf-8") + b"\n"
            except UnicodeEncodeError:
                # Lone surrogates (e.g. a dead letter for bad metadata): \u escapes keep
                # the record exactly and the line valid.
                return json.dumps(envelope).encode("ascii") + b"\n"
        newline = b"\n" in record.value or b"\r" in record.value
        try:
            # the tree is only needed to re-write a value that spans lines
            if newline:
                doc = json_document(record.value)
            else:
                check_json_document(record.value)
        except ValueError as exc:
            raise SerializationError(
                f"the value is not JSON ({exc}); use format: record to write any bytes"
            ) from exc
        if newline:
            return (
                jsonio.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            )
        return record.value + b"\n"

    def flush(self) -> None:
        """Push buffered lines out."""
        if self._stream is not None:
            try:
                self._stream.flush()
            except OSError as exc:
                raise PluginIoError(f"plugin {self._plugin_name()!r}: {exc}") from exc


@register("sink", "jsonl")
class JsonlSink(_LineSink):
    """Writes a JSON Lines file: one record per line."""

    params = (_PATH_OUT, _FORMAT, _MODE)

    def __init__(self) -> None:
        super().__init__()
        self._resume = Resume()

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters."""
        super().configure(config)
        _choice("jsonl", "mode", self.param("mode"), ("overwrite", "append"))

    def resume_at(self, size: int | None) -> None:
        """Before `connect`: continue the file at `size` bytes (None: as it is), in any mode."""
        self._resume.request(size)

    def committed_size(self) -> int:
        """The file's size in bytes; after `flush` all of it is durable."""
        return size_of(self._stream, "jsonl")

    def _open(self) -> IO[bytes]:
        path = self.param("path")
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._resume.cut("jsonl", path)
            append = self._resume.active or self.param("mode") == "append"
            return open(path, "ab" if append else "wb")
        except OSError as exc:
            raise PluginIoError(
                f"plugin 'jsonl': cannot open {path} for writing: {exc.strerror}"
            ) from exc

    def flush(self) -> None:
        """Write buffered lines and fsync, so accepted records survive a crash."""
        if self._stream is not None:
            sync(self._stream, "jsonl")

    def close(self) -> None:
        """Flush and close the file (safe twice)."""
        stream, self._stream = self._stream, None
        close_durably(stream, "jsonl")


@register("sink", "stdout")
class StdoutSink(_LineSink):
    """Writes JSON Lines to standard output."""

    def _open(self) -> IO[bytes]:
        return sys.stdout.buffer

    def close(self) -> None:
        """Flush standard output; it stays open for the process."""
        if self._stream is not None:
            try:
                self.flush()
            finally:
                self._stream = None
