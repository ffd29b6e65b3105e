"""CSV file source and sink (``csv``): a row is a JSON object keyed by the header.

Reading: the first row is the header; each later row becomes the value
``{"<column>": <cell>, ...}`` (JSON, header order). With ``infer_types:
true`` (the default) cells that read as integers or decimals become
numbers; everything else stays a string (CSV has no types). ``key_field``
picks a column as the record key.

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
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from dataflare.connectors._resume import Resume
from dataflare.errors import ConfigurationError, PluginError, PluginIoError, SerializationError
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import SinkBase, SourceBase
from dataflare.plugins.registry import register

__all__ = ["CsvSink", "CsvSource"]

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
    """Reads a CSV file with a header row; each row becomes a JSON object."""

    params = (
        ParamInfo("path", "the file to read", required=True),
        _DELIMITER,
        ParamInfo("infer_types", "true turns numeric cells into JSON numbers", default="true"),
        ParamInfo("key_field", "a column whose cell becomes the record key"),
    )

    def __init__(self) -> None:
        super().__init__()
        self._file: IO[str] | None = None
        self._reader: Any = None
        self._header: list[str] = []

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters; the input file must exist now."""
        super().configure(config)
        _delimiter(self.param("delimiter"))
        if self.param("infer_types") not in ("true", "false"):
            raise ConfigurationError("plugin 'csv': infer_types must be true or false")
        if not os.path.isfile(self.param("path")):
            raise ConfigurationError(f"plugin 'csv': input file not found: {self.param('path')}")

    def connect(self) -> None:
        """Open the file and read the header."""
        try:
            self._file = open(self.param("path"), newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise PluginIoError(
                f"plugin 'csv': cannot open {self.param('path')}: {exc.strerror}"
            ) from exc
        self._reader = csv.reader(
            _bounded_lines(self._file, self.param("path")), delimiter=self.param("delimiter")
        )
        self._header = next(self._reader, [])
        key = self.config.get("key_field")
        if key and key not in self._header:
            raise PluginIoError(
                f"plugin 'csv': key_field {key!r} is not a column (columns: "
                f"{', '.join(self._header)})"
            )

    def read(self, max_records: int) -> list[Record]:
        """Up to `max_records` rows as records."""
        if self._reader is None:
            raise PluginIoError("plugin 'csv': read before connect")
        infer = self.param("infer_types") == "true"
        key_field = self.config.get("key_field")
        out: list[Record] = []
        try:
            for row in self._reader:
                if not row:
                    continue
                if len(row) > len(self._header):
                    raise SerializationError(
                        f"plugin 'csv': line {self._reader.line_num}: {len(row)} cells for "
                        f"{len(self._header)} columns"
                    )
                doc = {
                    name: _cell(text, infer) for name, text in zip(self._header, row, strict=False)
                }
                key = row[self._header.index(key_field)].encode("utf-8") if key_field else None
                out.append(
                    Record(value=json.dumps(doc, ensure_ascii=False).encode("utf-8"), key=key)
                )
                if len(out) >= max_records:
                    break
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SerializationError(f"plugin 'csv': {self.param('path')}: {exc}") from exc
        return out

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
        if self._file is None:
            raise PluginIoError("plugin 'csv': committed_size before connect")
        try:
            return os.fstat(self._file.fileno()).st_size
        except OSError as exc:
            raise PluginIoError(f"plugin 'csv': {exc}") from exc

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
        """Write buffered rows and fsync."""
        if self._file is not None:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as exc:
                raise PluginIoError(f"plugin 'csv': {exc}") from exc

    def close(self) -> None:
        """Flush and close (safe twice)."""
        if self._file is None:
            return
        try:
            self.flush()
        finally:
            file, self._file = self._file, None
            file.close()


def _object(record: Record) -> dict[str, Any]:
    try:
        doc = json.loads(record.value)
    except ValueError as exc:
        raise SerializationError(f"the value is not JSON: {exc}") from exc
    except RecursionError:
        raise SerializationError("the value is not JSON we accept: nested too deeply") from None
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
    return json.dumps(value, ensure_ascii=False)


MAX_LINE_CHARS = 16 << 20
"""Longest physical line read: a longer one stops the read instead of filling memory."""


def _bounded_lines(stream: IO[str], path: str) -> Iterator[str]:
    """The lines of `stream`, refusing one longer than `MAX_LINE_CHARS` before it is all read."""
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
        yield line
