"""JS plugin projects: each kind's template, made outside the repo, builds and behaves as specified.

`lang_js.build` installs the project's pinned componentize-js (npm ci) and
builds ``build/NAME.wasm``; the components are then driven through
`dataflare.open_plugin` against the template behaviour in the issue 14
contract, and must pass `dataflare check` with their defaults.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dataflare
import pytest
from dataflare.authoring import lang_js
from dataflare.authoring.project import KINDS, Project
from dataflare.authoring.scaffold import new_project
from dataflare.errors import (
    BuildFailedError,
    ConfigurationError,
    ProcessingError,
    SerializationError,
    ToolchainMissingError,
)
from dataflare.model import Record
from hypothesis import given, settings
from hypothesis import strategies as st
from support.guests import ROOT
from support.markers import require
from support.tools import require_tool

HOST = ROOT / "host"


def _new(kind: str, base: Path) -> Project:
    return new_project(kind, f"my_{kind}", "js", base / f"my_{kind}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    """The five template projects, made in a temporary folder outside the repo and built."""
    require("guests", "builds JS plugin projects with componentize-js")
    require_tool("node", "apt-get install nodejs npm")
    require_tool("npm", "apt-get install npm")
    base = tmp_path_factory.mktemp("js-projects")
    assert not base.resolve().is_relative_to(ROOT)
    projects = {}
    for kind in KINDS:
        project = _new(kind, base)
        said: list[str] = []
        assert lang_js.build(project, said.append) == project.component
        assert project.component.is_file()
        assert any("componentize-js" in line for line in said), said
        projects[kind] = project
    return projects


@contextmanager
def opened(project: Project, **config: str) -> Iterator[Any]:
    """The project's component, configured with `config`, closed afterwards."""
    plugin = dataflare.open_plugin(project.component, config=config)
    try:
        yield plugin
    finally:
        plugin.close()


def _json(data: bytes) -> object:
    return json.loads(data.decode("utf-8"))


@pytest.mark.guests
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_describes_one_parameter_with_a_default(built, kind):
    expected = {
        "filter": ("min", "10"),
        "transform": ("tag", "seen"),
        "aggregate": ("group_by", "region"),
        "source": ("count", "5"),
        "sink": ("required", "id"),
    }[kind]
    with opened(built[kind]) as plugin:
        info = plugin.describe()
    assert (info.name, info.version, str(info.kind.value)) == (f"my_{kind}", "0.1.0", kind)
    assert [(p.name, p.default, p.required) for p in info.params] == [(*expected, False)]


@pytest.mark.guests
@pytest.mark.slow
def test_filter_keeps_records_whose_amount_is_above_min(built):
    with opened(built["filter"]) as plugin:
        assert plugin.filter(Record(b'{"amount": 10.5}')) is True
        assert plugin.filter(Record(b'{"amount": 10}')) is False
        assert plugin.filter(Record(b'{"amount": "99"}')) is False
        assert plugin.filter(Record(b'{"other": 99}')) is False
        for bad in (b"[1]", b"99", b"not json"):
            with pytest.raises(SerializationError):
                plugin.filter(Record(bad))
    with opened(built["filter"], min="-1") as plugin:
        assert plugin.filter(Record(b'{"amount": 0}')) is True
    with pytest.raises(ConfigurationError, match="parameter 'min' must be a number, got 'ten'"):
        dataflare.open_plugin(built["filter"].component, config={"min": "ten"})


@pytest.mark.guests
@pytest.mark.slow
@given(
    amounts=st.lists(st.integers(-100, 100) | st.floats(-1e6, 1e6) | st.text(max_size=3)),
    least=st.integers(-50, 50),
)
@settings(max_examples=25)
def test_filter_batch_agrees_with_the_rule(built, amounts, least):
    records = [Record(json.dumps({"amount": a}).encode()) for a in amounts]
    with opened(built["filter"], min=str(least)) as plugin:
        got = plugin.filter_batch(records)
    assert got == [not isinstance(a, str) and a > least for a in amounts]


@pytest.mark.guests
@pytest.mark.slow
def test_transform_sets_tag_and_keeps_the_rest(built):
    record = Record(b'{"a": [1], "tag": 0}', key=b"k", timestamp=7, metadata={"m": "v"})
    with opened(built["transform"]) as plugin:
        out = plugin.transform(record)
        assert (out.key, out.timestamp, dict(out.metadata)) == (b"k", 7, {"m": "v"})
        assert _json(out.value) == {"a": [1], "tag": "seen"}
        with pytest.raises(SerializationError):
            plugin.transform(Record(b'"text"'))
        batch = plugin.transform_batch([record, Record(b"[]")])
        assert _json(batch[0].value) == {"a": [1], "tag": "seen"}
        assert isinstance(batch[1], SerializationError)
    with opened(built["transform"], tag="ü x") as plugin:
        assert _json(plugin.transform(record).value) == {"a": [1], "tag": "ü x"}


@pytest.mark.guests
@pytest.mark.slow
def test_aggregate_counts_per_group_merges_and_emits_in_code_point_order(built):
    with opened(built["aggregate"]) as plugin:
        acc = plugin.init()
        assert _json(acc) == {}
        values = ['{"region": "\uffff"}', '{"region": 1}', '{"region": "😀"}']
        acc, errors = plugin.aggregate_batch(acc, [Record(v.encode()) for v in values])
        assert errors == [None, None, None]
        acc = plugin.aggregate(acc, Record(b'{"region": 1}'))
        with pytest.raises(ProcessingError, match='missing field "region"'):
            plugin.aggregate(acc, Record(b'{"area": "x"}'))
        with pytest.raises(SerializationError):
            plugin.aggregate(acc, Record(b"[]"))
        other = plugin.aggregate(plugin.init(), Record(b'{"region": "1"}'))
        merged = plugin.merge(acc, other)
        emitted = plugin.emit(merged)
    # "1" (the number's JSON text and the string) < U+FFFF < U+1F600 by code point.
    assert [(r.key, _json(r.value)) for r in emitted] == [
        (b"1", {"group": "1", "count": 3}),
        ("\uffff".encode(), {"group": "\uffff", "count": 1}),
        ("😀".encode(), {"group": "😀", "count": 1}),
    ]
    with opened(built["aggregate"], group_by="area") as plugin:
        acc = plugin.aggregate(plugin.init(), Record(b'{"area": "x"}'))
        assert _json(acc) == {"x": 1}


@pytest.mark.guests
@pytest.mark.slow
def test_source_reads_count_records_then_ends_and_resumes_from_a_checkpoint(built):
    with opened(built["source"]) as plugin:
        plugin.connect()
        first = plugin.read(2)
        assert plugin.checkpoint() == b"2"
        rest = plugin.read(10)
        assert plugin.read(10) == []
        got = first + rest
        assert [(r.key, _json(r.value), r.timestamp, dict(r.metadata)) for r in got] == [
            (str(n).encode(), {"n": n}, None, {}) for n in range(5)
        ]
        plugin.restore(b"3")
        assert [r.key for r in plugin.read(10)] == [b"3", b"4"]
        with pytest.raises(SerializationError):
            plugin.restore(b"x")
    with opened(built["source"], count="0") as plugin:
        assert plugin.read(10) == []
    for bad in ("-1", "1.5", "many"):
        with pytest.raises(ConfigurationError, match="must be a non-negative integer"):
            dataflare.open_plugin(built["source"].component, config={"count": bad})


@pytest.mark.guests
@pytest.mark.slow
def test_sink_logs_records_holding_the_required_field(built, caplog):
    with caplog.at_level(logging.INFO, logger="dataflare.plugin"), opened(built["sink"]) as plugin:
        plugin.connect()
        plugin.write(Record(b'{"id": 1}'))
        with pytest.raises(ProcessingError):
            plugin.write(Record(b'{"name": 1}'))
        batch = [Record('{"id": "é"}'.encode()), Record(b"nope"), Record(b"{}")]
        errors = plugin.write_batch(batch)
        plugin.flush()
    assert [type(e) for e in errors] == [type(None), SerializationError, ProcessingError]
    logged = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (logging.INFO, 'my_sink: {"id": 1}') in logged
    assert (logging.INFO, 'my_sink: {"id": "é"}') in logged


@pytest.mark.guests
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_check_passes_with_the_defaults(built, kind):
    project = built[kind]
    proc = subprocess.run(
        [sys.executable, "-m", "dataflare", "check", f"build/{project.name}.wasm"],
        cwd=project.root,
        env={**os.environ, "PYTHONPATH": str(HOST)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


@pytest.mark.guests
@pytest.mark.slow
def test_a_syntax_error_names_the_file_and_line(built, tmp_path):
    project = _new("filter", tmp_path)
    # The built filter's componentize-js serves: this build must fail before using it.
    (project.root / "node_modules").symlink_to(built["filter"].root / "node_modules")
    source = project.root / lang_js.SOURCE_FILE
    text = source.read_text()
    source.write_text(text + "const = 1;\n")
    line = len(text.splitlines()) + 1
    with pytest.raises(BuildFailedError) as failed:
        lang_js.build(project, lambda line: None)
    message = str(failed.value)
    assert f"plugin.js:{line}" in message and "SyntaxError" in message, message
    assert not project.component.exists()


def test_a_missing_node_names_what_to_install(tmp_path, monkeypatch):
    project = _new("filter", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolchainMissingError) as missing:
        lang_js.build(project, lambda line: None)
    assert str(missing.value) == "node not found; install it with: apt-get install nodejs npm"
    assert not project.build_dir.exists()
    assert not (project.root / "node_modules").exists()


def test_new_vendors_the_shipped_sdk(tmp_path):
    project = _new("filter", tmp_path)
    vendored = sorted(p.name for p in (project.root / lang_js.SDK_DIR).iterdir())
    assert vendored == ["batch.js", "index.js", "json.js", "plugin.js"]
    assert "./dataflare/index.js" in (project.root / lang_js.SOURCE_FILE).read_text()


def test_a_failed_build_reports_the_message_not_the_tools_stack():
    stderr = (
        "file:///p/node_modules/@bytecodealliance/componentize-js/src/componentize.js:616\n"
        "    throw new Error(msg);\n"
        "          ^\n"
        "\n"
        'Error: "plugin.js" does not export a "filterBatch" function as expected by the world.\n'
        "    at componentize (file:///p/node_modules/x.js:1:2)\n"
        "\n"
        "Node.js v20.20.2\n"
    )
    assert lang_js._failure("node build.mjs", "", stderr) == (
        "node build.mjs failed:\n"
        'Error: "plugin.js" does not export a "filterBatch" function as expected by the world.'
    )
