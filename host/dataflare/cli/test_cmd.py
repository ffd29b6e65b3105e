"""`dataflare test PLUGIN --input records.jsonl`: run a plugin over records, print outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from dataflare import jsonio
from dataflare.cli.plugin_options import add_plugin_options, resolve_project_plugin
from dataflare.errors import DataFlareError, PluginError
from dataflare.model import Record
from dataflare.plugins.kinds import (
    AggregatePlugin,
    FilterPlugin,
    SinkPlugin,
    SourcePlugin,
    TransformPlugin,
)
from dataflare.record_json import decode_envelope, encode_envelope

__all__ = ["read_records", "register"]

_EPILOG = """\
input (--input, JSON Lines; blank lines are skipped), as a pipeline's jsonl source reads it:
  by default each line is one JSON value, and becomes a record's value as it is
  (what `format: value` makes of it): {"email": "a@b.c"}  or  "text"  or  42
  with --records each line is a record object (`format: record`), one record per line:
  {"key": "user-1", "value": {"email": "a@b.c"}, "timestamp": 1700000000000,
   "metadata": {"origin": "test"}}
  key        string (UTF-8 bytes) or null; "key_base64" for other bytes
  value      a string is taken as its UTF-8 bytes ("not json" stays invalid JSON);
             any other JSON value is encoded as compact JSON, key order kept;
             "value_base64" for other bytes
  timestamp  integer milliseconds since the Unix epoch, or null (optional)
  metadata   object of strings (optional)
  Without --records, {"value": 1} is a value like any other object: the flag, not
  the line's shape, says which form a file is in.

output (stdout, one JSON object per line; "line" is the input line number):
  filter     {"line": N, "keep": true|false}
  transform  {"line": N, "record": RECORD}
  aggregate  a line per failed record, then {"emit": RECORD} per emitted record
  sink       {"line": N, "ok": true}
  source     {"record": RECORD} per record read (no --input)
  a failed record gives {"line": N, "error": {"kind": "serialization", "message": ...}}.
  RECORD has the input's shape, with value and key always as text (or *_base64).

exit status: 0 when every record succeeded, 1 when any record failed,
2 when the plugin could not be loaded or configured."""


def register(subparsers: Any) -> None:
    """Add the `test` subcommand."""
    parser = subparsers.add_parser(
        "test",
        help="run a plugin over records from a JSONL file and print the outcomes",
        description=(
            "Run a plugin over test records and print what it does with each. PLUGIN "
            "is a .wasm component, a native plugin as KIND/NAME, or a .py file of "
            "@dataflare.register classes (--name picks one when it registers several)."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_plugin_options(
        parser,
        plugin_help="a .wasm file, KIND/NAME, or a .py plugin file",
        world_help="the kind the plugin must be",
    )
    parser.add_argument("--input", "-i", type=Path, help="JSON Lines to feed it ('-' for stdin)")
    parser.add_argument(
        "--records",
        action="store_true",
        help="each input line is a record object (key, value, ...), not a plain value",
    )
    parser.add_argument(
        "--batch-size", type=int, default=100, help="records per batch call (default 100)"
    )
    parser.add_argument(
        "--one-by-one", action="store_true", help="call the single-record form for each record"
    )
    parser.add_argument(
        "--max", type=int, default=1000, help="sources: stop after this many records"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Open and configure the plugin, feed it the records, print one line per outcome."""
    if args.batch_size < 1:
        raise DataFlareError("--batch-size must be at least 1")
    from dataflare.plugins.resolve import open_plugin  # imported when run: keeps --help fast

    resolve_project_plugin(args)
    plugin = open_plugin(args.plugin, args.world, stage="test", name=args.name)
    try:
        plugin.configure(dict(args.param))
        if isinstance(plugin, SourcePlugin):
            return _run_source(plugin, args.max)
        runner = next(run for protocol, run in _RUNNERS if isinstance(plugin, protocol))
        if args.input is None:
            raise DataFlareError("--input is required unless the plugin is a source")
        lines = list(read_records(args.input, envelopes=args.records))
        step = 1 if args.one_by_one else args.batch_size
        return runner(plugin, lines, step, args.one_by_one)
    finally:
        plugin.close()


def read_records(path: Path, envelopes: bool = False) -> Iterator[tuple[int, Record]]:
    """(line number, record) for each non-blank line; `DataFlareError` names a bad line.

    A line is a record's value, or with `envelopes` a record object.
    """
    try:
        stream: TextIO = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    except OSError as exc:
        raise DataFlareError(f"cannot read {path}: {exc.strerror or exc}") from None
    parse = _record if envelopes else _value
    with stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield number, parse(path, number, line)


def _value(path: Path, number: int, line: str) -> Record:
    # Like the jsonl source: the line's bytes are the value, once checked to be JSON.
    try:
        jsonio.loads(line, "the line")
    except (ValueError, PluginError) as exc:
        raise DataFlareError(f"{path}:{number}: not a JSON value: {exc}") from None
    return Record(value=line.rstrip("\n").encode())


def _record(path: Path, number: int, line: str) -> Record:
    try:
        obj = jsonio.loads(line, "the line")  # a line nested too deep is this line's error
        if isinstance(obj, dict) and "value" in obj and not isinstance(obj["value"], str | None):
            obj["value"] = jsonio.dumps(obj["value"], separators=(",", ":"), ensure_ascii=False)
        return decode_envelope(obj)
    except (ValueError, PluginError) as exc:
        raise DataFlareError(f"{path}:{number}: not a record: {exc}") from None


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _error(err: PluginError) -> dict[str, str]:
    return {"kind": err.kind, "message": err.message}


def _batches(
    lines: Sequence[tuple[int, Record]], step: int
) -> Iterator[tuple[list[int], list[Record]]]:
    for start in range(0, len(lines), step):
        chunk = lines[start : start + step]
        yield [n for n, _ in chunk], [r for _, r in chunk]


def _per_record(
    lines: Sequence[tuple[int, Record]],
    step: int,
    one: Callable[[Record], Any],
    many: Callable[[list[Record]], Sequence[Any]],
    single: bool,
) -> Iterator[tuple[int, Any]]:
    """(line, outcome) per record, from the single-record or the batch form."""
    for numbers, records in _batches(lines, step):
        if single:
            try:
                outcomes: Sequence[Any] = [one(records[0])]
            except PluginError as exc:
                outcomes = [exc]
        else:
            outcomes = many(records)
        yield from zip(numbers, outcomes, strict=True)


def _emit_outcomes(
    outcomes: Iterator[tuple[int, Any]], key: str, show: Callable[[Any], Any]
) -> int:
    """One line per record: its error, or `{key: show(outcome)}`; 1 if any record failed."""
    failed = 0
    for number, outcome in outcomes:
        if isinstance(outcome, PluginError):
            failed += 1
            _emit({"line": number, "error": _error(outcome)})
        else:
            _emit({"line": number, key: show(outcome)})
    return 1 if failed else 0


def _run_filter(plugin: Any, lines: Sequence[tuple[int, Record]], step: int, one: bool) -> int:
    assert isinstance(plugin, FilterPlugin)
    outcomes = _per_record(lines, step, plugin.filter, plugin.filter_batch, one)
    return _emit_outcomes(outcomes, "keep", lambda keep: keep)


def _run_transform(plugin: Any, lines: Sequence[tuple[int, Record]], step: int, one: bool) -> int:
    assert isinstance(plugin, TransformPlugin)
    outcomes = _per_record(lines, step, plugin.transform, plugin.transform_batch, one)
    return _emit_outcomes(outcomes, "record", encode_envelope)


def _run_aggregate(plugin: Any, lines: Sequence[tuple[int, Record]], step: int, one: bool) -> int:
    assert isinstance(plugin, AggregatePlugin)
    failed = 0
    acc = plugin.init()
    for numbers, records in _batches(lines, step):
        if one:
            try:
                acc = plugin.aggregate(acc, records[0])
                outcomes: list[PluginError | None] = [None]
            except PluginError as exc:
                outcomes = [exc]
        else:
            acc, outcomes = plugin.aggregate_batch(acc, records)
        for number, outcome in zip(numbers, outcomes, strict=True):
            if outcome is not None:
                failed += 1
                _emit({"line": number, "error": _error(outcome)})
    for record in plugin.emit(acc):
        _emit({"emit": encode_envelope(record)})
    return 1 if failed else 0


def _run_sink(plugin: Any, lines: Sequence[tuple[int, Record]], step: int, one: bool) -> int:
    assert isinstance(plugin, SinkPlugin)
    plugin.connect()

    def write_one(record: Record) -> None:
        plugin.write(record)

    outcomes = _per_record(lines, step, write_one, plugin.write_batch, one)
    code = _emit_outcomes(outcomes, "ok", lambda _: True)
    plugin.flush()
    return code


def _run_source(plugin: SourcePlugin, limit: int) -> int:
    plugin.connect()
    read = 0
    while read < limit:
        records = plugin.read(min(100, limit - read))
        if not records:
            break
        for record in records:
            _emit({"record": encode_envelope(record)})
        read += len(records)
    return 0


_RUNNERS: list[tuple[type, Callable[[Any, Sequence[tuple[int, Record]], int, bool], int]]] = [
    (FilterPlugin, _run_filter),
    (TransformPlugin, _run_transform),
    (AggregatePlugin, _run_aggregate),
    (SinkPlugin, _run_sink),
]
