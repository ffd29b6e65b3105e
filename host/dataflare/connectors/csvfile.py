"""CSV file source and sink (``csv``): a row is a JSON object keyed by the header.

Reading: ``path`` is a file or a glob (``in-*.csv``), whose matches are read
in name order, each with its own header. With ``resume: true`` the
checkpoint names the file (name, identity, a digest of its first bytes) and
the byte offset after the last row, and a rerun continues there. The first
row is the header; each later row becomes the value
``{"<column>": <cell>, ...}`` (JSON, header order). With ``infer_types:
true`` (the default) cells that read as integers or decimals become
numbers; everything else stays a string (CSV has no types). ``key_field``
picks a column as the record key. A row that cannot be read (more cells
than columns, not UTF-8, a CSV syntax error) fails alone: it is reported
beside the good rows, named ``file:line``, and follows the source's
``on_error`` with the row's bytes as the dead letter's value. A row with
fewer cells than columns leaves the missing fields out.

Writing: each value must be a JSON object. The columns are ``columns``
(comma-separated) when given, else the header of the file being appended
to, else the fields of the first record. A missing field is an empty cell;
a field that is not a column fails that record; nested values are written
as JSON text. The sink is exactly once across crashes: on a resumed run it
is cut back to the size the checkpoint recorded and appended to under the
header already there, whatever its ``mode`` (a fresh run follows ``mode``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from dataflare import jsonio
from dataflare.connectors._file_partitions import file_partitions
from dataflare.connectors._file_series import (
    FileId,
    FilePosition,
    FileSeries,
    head_digest,
    is_glob,
)
from dataflare.connectors._resume import Resume, close_durably, size_of, sync
from dataflare.errors import ConfigurationError, PluginError, PluginIoError, SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import SinkBase, SourceBase
from dataflare.plugins.kinds import ReadFailure, SourceBatch
from dataflare.plugins.registry import register

__all__ = ["CsvSink", "CsvSource"]

_log = logging.getLogger("dataflare.connectors")

_INT = re.compile(r"^-?(0|[1-9][0-9]{0,17})$")
_FLOAT = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]+$")
_DELIMITER = ParamInfo("delimiter", "one character between cells", default=",")


def _delimiter(value: str) -> str:
    if len(value) != 1:
        raise ConfigurationError(f"plugin 'csv': delimiter must be one character, got {value!r}")
    return value


def _cell(text: str, infer: bool) -> object:
    if infer and _INT.match(text):
        return int(text)
    if infer and _FLOAT.match(text):
        return float(text)
    return text


@register("source", "csv")
class CsvSource(SourceBase):
    """Reads CSV files with a header row (a path or a glob); each row becomes a JSON object."""

    params = (
        ParamInfo(
            "path", "the file to read, or a glob (in-*.csv) read in name order", required=True
        ),
        _DELIMITER,
        ParamInfo("infer_types", "true turns numeric cells into JSON numbers", default="true"),
        ParamInfo("key_field", "a column whose cell becomes the record key"),
        ParamInfo(
            "resume", "true: a rerun continues after the last row committed", default="false"
        ),
    )

    def __init__(self) -> None:
        super().__init__()
        self._file: IO[str] | None = None
        self._reader: Any = None
        self._header: list[str] = []
        self._lines: list[str] = []  # the physical lines of the row being read
        self._series: FileSeries | None = None
        self._path: str | None = None
        """The file being read (or last read), as matched."""
        self._id: FileId | None = None
        self._line_base = 0  # lines before where the reader started (after a restore)

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters; the input file (or a match of the glob) must exist now."""
        super().configure(config)
        _delimiter(self.param("delimiter"))
        for flag in ("infer_types", "resume"):
            if self.param(flag) not in ("true", "false"):
                raise ConfigurationError(f"plugin 'csv': {flag} must be true or false", param=flag)
        path = self.param("path")
        if not FileSeries(path, follow=False).matches():
            what = "no file matches" if is_glob(path) else "input file not found:"
            raise ConfigurationError(f"plugin 'csv': {what} {path}", param="path")

    def partitions(self) -> list[dict[str, str]]:
        """Dask partitions: one per matching file.

        A file is never cut by bytes: a quoted cell may hold newlines, so a
        cut after a newline may fall inside a row.
        """
        return file_partitions(self.param("path"), 0, ranges=False)

    def connect(self) -> None:
        """Open the first file and read its header."""
        self._series = FileSeries(self.param("path"), follow=False)
        first = self._series.first()
        if first is None:
            raise PluginIoError(f"plugin 'csv': no file matches {self.param('path')}")
        self._open(first)

    def _open(self, path: str) -> None:
        """Read `path` from its first row on (its header read)."""
        try:
            # surrogateescape: a row that is not UTF-8 fails alone, with its bytes kept.
            file = open(  # noqa: SIM115
                path, newline="", encoding="utf-8", errors="surrogateescape"
            )
        except OSError as exc:
            raise PluginIoError(f"plugin 'csv': cannot open {path}: {exc.strerror}") from exc
        self.close()
        self._file, self._path, self._line_base = file, path, 0
        self._id = FileId.of(os.fstat(file.fileno()))
        self._reader = self._rows(file, path)
        try:
            self._header = next(self._reader, [])
        except csv.Error as exc:
            raise SerializationError(f"plugin 'csv': {path}:1: header: {exc}") from exc
        if not _is_utf8("".join(self._lines)):
            raise SerializationError(f"plugin 'csv': {path}:1: the header is not UTF-8")
        self._lines.clear()
        key = self.config.get("key_field")
        if key and key not in self._header:
            raise PluginIoError(
                f"plugin 'csv': {path}: key_field {key!r} is not a column (columns: "
                f"{', '.join(self._header)})"
            )

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` rows as records; a bad row raises."""
        return self.read_batch(max_records).records_or_raise()

    def read_batch(self, max_records: int) -> SourceBatch:
        """Up to `max_records` rows (of one file): good ones as records, bad ones beside them."""
        while True:
            batch = self._read_rows(max_records)
            if batch.records or batch.failures:
                return batch
            assert self._series is not None and self._path is not None
            following = self._series.after(self._path, self._id)
            if following is None:
                return batch
            self._open(following)

    def _read_rows(self, max_records: int) -> SourceBatch:
        if self._reader is None or self._path is None:
            raise PluginIoError("plugin 'csv': read before connect")
        infer = self.param("infer_types") == "true"
        key_field = self.config.get("key_field")
        key_at = self._header.index(key_field) if key_field else -1
        path = self._path
        batch = SourceBatch([])
        while len(batch.records) + len(batch.failures) < max_records:
            line = self._line_base + self._reader.line_num + 1
            try:
                row = next(self._reader, None)
                error = None
            except csv.Error as exc:
                row, error = [], str(exc)
            text = "".join(self._lines)
            self._lines.clear()
            if row is None:
                break
            if error is None and not _is_utf8(text):
                error = "the row is not UTF-8"
            elif error is None and len(row) > len(self._header):
                error = f"{len(row)} cells for {len(self._header)} columns"
            if error is not None:
                kept = text.rstrip("\r\n").encode("utf-8", "surrogateescape")
                failure = SerializationError(f"plugin 'csv': {path}:{line}: {error}")
                batch.failures.append(ReadFailure(kept, failure))
                continue
            if not row:
                continue
            doc = {name: _cell(cell, infer) for name, cell in zip(self._header, row, strict=False)}
            key = row[key_at].encode("utf-8") if 0 <= key_at < len(row) else None
            batch.records.append(
                Record(value=json.dumps(doc, ensure_ascii=False).encode("utf-8"), key=key)
            )
        return batch

    def checkpoint(self) -> bytes:
        """With ``resume: true``: the file (name, identity), offset and line after the last row."""
        if self.param("resume") != "true":
            return b""
        if self._file is None:  # the saved file is gone and nothing followed it
            return FilePosition(self._path, self._id, 0, 0).encode()
        # the reader never reads ahead of the row it returns: the file stands right after it
        offset = self._file.tell()
        line = self._line_base + self._reader.line_num
        head = head_digest(self._file.fileno(), offset)
        return FilePosition(self._path, self._id, offset, line, head).encode()

    def restore(self, position: bytes) -> None:
        """Continue after a position from `checkpoint`, in the file it names (by identity).

        When that file is gone, reading starts at the next file by name.
        """
        if not position:
            return
        assert self._series is not None
        saved = FilePosition.decode(position, "csv")
        found = self._series.find(saved)
        if found is None:
            following = self._series.after_gone(saved)
            _log.warning(
                "the file of the saved position (%s) is gone; reading %s from its start",
                saved.path,
                following or "nothing more",
            )
            if following is None:
                self.close()
                self._path, self._id = saved.path, saved.file
                self._reader = csv.reader(iter(()))  # read to its end: nothing comes after
            elif following != self._path:
                self._open(following)
            return
        if found != self._path or saved.file != self._id:
            self._open(found)
        assert self._file is not None
        size = os.fstat(self._file.fileno()).st_size
        if saved.offset > size:
            raise PluginIoError(
                f"plugin 'csv': the saved position (byte {saved.offset}) is past the end of "
                f"{found} ({size} bytes): was the file replaced?"
            )
        self._file.seek(saved.offset)
        self._reader = self._rows(self._file, found)
        self._line_base = saved.line

    def _rows(self, file: IO[str], path: str) -> Any:
        """A CSV reader of `file` from where it stands, its lines bounded and kept for errors."""
        return csv.reader(
            _bounded_lines(file, path, self._lines), delimiter=self.param("delimiter")
        )

    def close(self) -> None:
        """Close the file (safe twice)."""
        file, self._file = self._file, None
        self._reader = None
        if file is not None:
            file.close()


@register("sink", "csv")
class CsvSink(SinkBase):
    """Writes JSON-object records as CSV rows under a header."""

    params = (
        ParamInfo("path", "the file to write", required=True),
        _DELIMITER,
        ParamInfo("columns", "comma-separated column names (default: the first record's fields)"),
        ParamInfo("mode", "overwrite or append", default="overwrite"),
    )

    def __init__(self) -> None:
        super().__init__()
        self._file: IO[str] | None = None
        self._columns: list[str] = []
        self._resume = Resume()

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters."""
        super().configure(config)
        _delimiter(self.param("delimiter"))
        if self.param("mode") not in ("overwrite", "append"):
            raise ConfigurationError(
                f"plugin 'csv': mode must be overwrite or append; got {self.param('mode')!r}"
            )
        if self.config.get("columns"):
            self._columns = [c.strip() for c in self.param("columns").split(",") if c.strip()]

    def resume_at(self, size: int | None) -> None:
        """Before `connect`: continue the file at `size` bytes (None: as it is), in any mode."""
        self._resume.request(size)

    def committed_size(self) -> int:
        """The file's size in bytes; after `flush` all of it is durable."""
        return size_of(self._file, "csv")

    def connect(self) -> None:
        """Open the file; when appending or resuming, take the columns from its header."""
        path = self.param("path")
        self._resume.cut("csv", path)
        append = (
            (self.param("mode") == "append" or self._resume.active)
            and os.path.isfile(path)
            and os.path.getsize(path) > 0
        )
        try:
            if append:
                with open(path, newline="", encoding="utf-8") as existing:
                    header = next(csv.reader(existing, delimiter=self.param("delimiter")), [])
                if self._columns and header != self._columns:
                    raise PluginIoError(
                        f"plugin 'csv': {path} has columns {header}, not {self._columns}"
                    )
                self._columns = header
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # Resuming at 0 bytes (nothing committed yet) may still open with "w".
            self._file = open(path, "a" if append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise PluginIoError(
                f"plugin 'csv': cannot open {path} for writing: {exc.strerror}"
            ) from exc
        self._header_written = append

    def write(self, record: Record) -> None:
        """Write one record as one row."""
        outcome = self.write_batch([record])[0]
        if outcome is not None:
            raise outcome

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Encode each record (a bad one fails alone), then write the rows in one call."""
        if self._file is None:
            raise PluginIoError("plugin 'csv': write before connect")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.param("delimiter"), lineterminator="\n")
        outcomes: list[PluginError | None] = []
        for record in records:
            try:
                doc = _object(record)
                if not self._columns:
                    self._columns = list(doc)
                extra = [k for k in doc if k not in self._columns]
                if extra:
                    raise SerializationError(
                        f"field(s) {', '.join(extra)} are not columns (columns: "
                        f"{', '.join(self._columns)})"
                    )
                if not self._header_written:
                    writer.writerow(self._columns)
                    self._header_written = True
                writer.writerow([_text(doc.get(c)) for c in self._columns])
                outcomes.append(None)
            except PluginError as exc:
                outcomes.append(exc)
        try:
            self._file.write(buffer.getvalue())
        except OSError as exc:
            raise PluginIoError(f"plugin 'csv': {exc}") from exc
        return outcomes

    def flush(self) -> None:
        """Write buffered rows and fsync, so accepted records survive a crash."""
        if self._file is not None:
            sync(self._file, "csv")

    def close(self) -> None:
        """Flush and close (safe twice)."""
        file, self._file = self._file, None
        close_durably(file, "csv")


def _object(record: Record) -> dict[str, Any]:
    doc = jsonio.loads(record.value)
    if not isinstance(doc, dict):
        raise SerializationError(f"expected a JSON object, got {type(doc).__name__}")
    return doc


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return jsonio.dumps(value, "a field", ensure_ascii=False)


def _is_utf8(text: str) -> bool:
    """False if `text` holds undecodable bytes (as surrogate escapes)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


MAX_LINE_CHARS = 16 << 20
"""Longest physical line read: a longer one stops the read instead of filling memory."""


def _bounded_lines(stream: IO[str], path: str, seen: list[str]) -> Iterator[str]:
    """The lines of `stream`, refusing one longer than `MAX_LINE_CHARS` before it is all read.

    Each line is also appended to `seen`, so the reader's caller has the
    physical lines of the row just parsed (to keep a bad row's bytes).
    """
    number = 0
    while True:
        line = stream.readline(MAX_LINE_CHARS + 2)
        if not line:
            return
        number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            raise SerializationError(
                f"plugin 'csv': {path}: line {number} is longer than {MAX_LINE_CHARS} characters"
            )
        seen.append(line)
        yield line
