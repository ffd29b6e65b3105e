"""Python plugin projects: `lang_python.build` with componentize-py, the templates and the SDK.

Each kind's template is made into a project in a temporary folder outside
the repo, built once per session, loaded with `dataflare.open_plugin` and
held to the behaviour the templates share (spec: one golden file for three
languages), then run through `dataflare check` with no parameters.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import dataflare
import pytest
from dataflare.authoring import lang_python
from dataflare.authoring.export_names import rename_exports
from dataflare.authoring.project import KINDS, Project
from dataflare.authoring.scaffold import new_project
from dataflare.bindgen.parse import wasm_tools
from dataflare.errors import (
    BuildFailedError,
    ConfigurationError,
    ProcessingError,
    SerializationError,
    ToolchainMissingError,
)
from dataflare.model import Record
from dataflare.plugins.kinds import AnyPlugin
from hypothesis import given, settings
from hypothesis import strategies as st
from support.markers import require
from support.tools import missing

REPO = Path(__file__).resolve().parents[2]
HINT = "componentize-py not found; install it with: pip install componentize-py==0.25.1"


def _new(kind: str, root: Path) -> Project:
    assert REPO not in root.parents, "projects must live outside the DataFlare checkout"
    return new_project(kind, f"my_{kind}", "python", root / f"my_{kind}")


def _build(project: Project) -> Path:
    require("guests", f"builds the python {project.kind} template")
    try:
        return lang_python.build(project, lambda line: None)
    except ToolchainMissingError as exc:
        missing(str(exc))
        raise


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`built(kind)`: the component of a new project of that kind, built once per session."""
    root = tmp_path_factory.mktemp("python_projects")
    done: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in done:
            done[kind] = _build(_new(kind, root))
        return done[kind]

    return get


@pytest.fixture
def open_kind(built: Callable[[str], Path]) -> Iterator[Callable[..., AnyPlugin]]:
    """`open_kind(kind, **params)`: the built template, configured, closed after the test."""
    opened: list[AnyPlugin] = []

    def open_(kind: str, **params: str) -> AnyPlugin:
        plugin = dataflare.open_plugin(built(kind), kind, config=params)
        opened.append(plugin)
        return plugin

    yield open_
    for plugin in opened:
        plugin.close()


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


# ---- the five templates, built --------------------------------------------------------


@pytest.mark.guests
@pytest.mark.slow
def test_filter_keeps_numbers_above_min_and_fails_non_objects(open_kind: Callable) -> None:
    plugin = open_kind("filter")
    info = plugin.describe()
    assert (info.name, info.version) == ("my_filter", "0.1.0")
    assert [(p.name, p.default, p.required) for p in info.params] == [("min", "10", False)]
    decide = [{"amount": 5}, {"amount": 25.5}, {"amount": 10}, {"amount": "12"}, {"id": 5}]
    assert [plugin.filter(Record(_json(v))) for v in decide] == [False, True, False, False, False]
    for value in (b"[1, 2]", b'"not an object"', b"not json"):
        with pytest.raises(SerializationError):
            plugin.filter(Record(value))
    plugin.configure({"min": "-1.5"})
    assert plugin.filter(Record(_json({"amount": -1})))
    with pytest.raises(ConfigurationError, match="'min' must be a number, got 'ten'"):
        plugin.configure({"min": "ten"})
    with pytest.raises(ConfigurationError, match="unknown parameter"):
        plugin.configure({"max": "1"})


@pytest.mark.guests
@pytest.mark.slow
def test_transform_sets_tag_and_keeps_the_rest_of_the_record(open_kind: Callable) -> None:
    plugin = open_kind("transform", tag="checked")
    source = Record(_json({"id": 1, "tag": "old"}), b"k", 1700000000000, {"m": "v"})
    out = plugin.transform(source)
    assert json.loads(out.value) == {"id": 1, "tag": "checked"}
    assert (out.key, out.timestamp, dict(out.metadata)) == (b"k", 1700000000000, {"m": "v"})
    with pytest.raises(SerializationError):
        plugin.transform(Record(b"[1]"))


@pytest.mark.guests
@pytest.mark.slow
def test_aggregate_counts_groups_merges_and_emits_in_order(open_kind: Callable) -> None:
    plugin = open_kind("aggregate")
    acc = plugin.init()
    assert json.loads(acc) == {}
    for value in ({"region": "us"}, {"region": "eu"}, {"region": 7}):
        acc = plugin.aggregate(acc, Record(_json(value)))
    with pytest.raises(ProcessingError, match='missing field "region"'):
        plugin.aggregate(acc, Record(_json({"id": 5})))
    with pytest.raises(SerializationError):
        plugin.aggregate(acc, Record(b'"not an object"'))
    other = plugin.aggregate(plugin.init(), Record(_json({"region": "eu"})))
    merged = plugin.merge(acc, other)
    emitted = [(r.key, json.loads(r.value)) for r in plugin.emit(merged)]
    assert emitted == [
        (b"7", {"group": "7", "count": 1}),
        (b"eu", {"group": "eu", "count": 2}),
        (b"us", {"group": "us", "count": 1}),
    ]


@pytest.mark.guests
@pytest.mark.slow
def test_source_counts_up_and_resumes_from_a_checkpoint(open_kind: Callable) -> None:
    plugin = open_kind("source", count="7")
    plugin.connect()
    first = plugin.read(3)
    assert [(r.key, json.loads(r.value), r.timestamp) for r in first] == [
        (str(n).encode(), {"n": n}, None) for n in range(3)
    ]
    position = plugin.checkpoint()
    assert position == b"3"
    rest = plugin.read(100)
    assert [json.loads(r.value)["n"] for r in rest] == [3, 4, 5, 6]
    assert plugin.read(5) == []  # the end
    plugin.restore(position)
    assert [json.loads(r.value)["n"] for r in plugin.read(2)] == [3, 4]
    with pytest.raises(SerializationError):
        plugin.restore(b"\xff")
    with pytest.raises(ConfigurationError, match="'count' must be at least 0"):
        plugin.configure({"count": "-1"})


@pytest.mark.guests
@pytest.mark.slow
def test_sink_logs_records_with_the_required_field(
    open_kind: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = open_kind("sink")
    plugin.connect()
    with caplog.at_level(logging.INFO):
        plugin.write(Record(b'{"id": 1, "msg": "hello"}'))
    assert 'my_sink: {"id": 1, "msg": "hello"}' in caplog.messages
    with pytest.raises(ProcessingError, match='missing field "id"'):
        plugin.write(Record(b'{"msg": "no id"}'))
    with pytest.raises(SerializationError):
        plugin.write(Record(b'"not an object"'))
    plugin.flush()  # use after close: `dataflare check` (lifecycle) and the SDK tests below


@pytest.mark.guests
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_dataflare_check_passes_with_no_parameters(built: Callable[[str], Path], kind: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dataflare", "check", str(built(kind))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


MINIMAL_FILTER = """\
from dataflare_guest import filter, json_object, param

MIN = param("min", float, 10, "keep records whose amount is above this")

@filter
def amount_min(record):
    amount = json_object(record).get("amount")
    return isinstance(amount, float) and amount > MIN.value
"""


@pytest.mark.guests
@pytest.mark.slow
def test_a_minimal_filter_is_at_most_ten_lines_and_works(tmp_path: Path) -> None:
    project = _new("filter", tmp_path)
    (project.root / "plugin.py").write_text(MINIMAL_FILTER)
    assert len(MINIMAL_FILTER.splitlines()) <= 10
    plugin = dataflare.open_plugin(_build(project), "filter", config={"min": "3"})
    try:
        assert plugin.describe().name == "amount_min"  # the function's name by default
        assert plugin.filter(Record(b'{"amount": 4}'))
        assert not plugin.filter(Record(b'{"amount": 3}'))
    finally:
        plugin.close()


# ---- build failures ---------------------------------------------------------------------


@pytest.mark.guests
@pytest.mark.slow
def test_a_syntax_error_fails_the_build_naming_file_and_line(tmp_path: Path) -> None:
    project = _new("filter", tmp_path)
    source = project.root / "plugin.py"
    source.write_text(source.read_text().replace("def keep(record):", "def keep(record)"))
    line = source.read_text().splitlines().index("def keep(record)") + 1
    with pytest.raises(BuildFailedError) as failed:
        _build(project)
    assert f"{source}, line {line}" in str(failed.value)
    assert "SyntaxError" in str(failed.value)
    assert list(project.build_dir.iterdir()) == []  # no component, no partial file


def test_without_componentize_py_the_build_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _new("filter", tmp_path)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nowhere" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolchainMissingError) as failed:
        lang_python.build(project, lambda line: None)
    assert str(failed.value) == HINT
    assert not project.component.exists()


def test_componentize_py_beside_the_interpreter_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    tool = venv_bin / "componentize-py"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert lang_python.componentize_py() == str(tool)


def test_the_module_describes_the_project_layout() -> None:
    assert lang_python.SOURCE_FILE == "plugin.py"
    assert "componentize-py" in lang_python.BUILD_TOOLS


def test_every_template_is_one_small_plugin_with_one_parameter(tmp_path: Path) -> None:
    for kind in KINDS:
        project = _new(kind, tmp_path)
        source = (project.root / "plugin.py").read_text()
        assert source.count("param(") == 1, kind
        assert f'name="my_{kind}", version="0.1.0"' in source, kind
        compile(source, "plugin.py", "exec")


# ---- export_names -----------------------------------------------------------------------


def _component(export: str) -> bytes:
    """A tiny component exporting one function under `export`."""
    wat = f"""(component
      (core module $m (func (export "f")))
      (core instance $i (instantiate $m))
      (func $f (canon lift (core func $i "f")))
      (export "{export}" (func $f)))"""
    done = subprocess.run(
        [wasm_tools(), "parse", "-", "-o", "/dev/stdout"],
        input=wat.encode(),
        capture_output=True,
        check=True,
    )
    return done.stdout


def _exports(component: bytes, tmp: Path) -> str:
    path = tmp / "c.wasm"
    path.write_bytes(component)
    subprocess.run([wasm_tools(), "validate", str(path)], check=True, capture_output=True)
    done = subprocess.run(
        [wasm_tools(), "component", "wit", str(path)], check=True, capture_output=True, text=True
    )
    return done.stdout


def test_rename_exports_gives_a_valid_component_with_the_new_name(tmp_path: Path) -> None:
    old = "dataflare-" + "read" * 40  # a name over 127 bytes: its length takes two LEB bytes
    renamed = rename_exports(_component(old), {old: "read"})
    wit = _exports(renamed, tmp_path)
    assert "export read: func();" in wit
    assert old not in wit


@settings(max_examples=30)
@given(length=st.integers(min_value=1, max_value=300))
def test_rename_exports_there_and_back_is_the_same_bytes(length: int) -> None:
    original = _original()
    name = "a" * length
    there = rename_exports(original, {"dataflare-read": name})
    assert rename_exports(there, {name: "dataflare-read"}) == original


@functools.cache
def _original() -> bytes:
    return _component("dataflare-read")


def test_rename_exports_refuses_names_it_does_not_find_and_non_components() -> None:
    with pytest.raises(ValueError, match="exports no missing"):
        rename_exports(_original(), {"missing": "x"})
    with pytest.raises(ValueError, match="not a WebAssembly component"):
        rename_exports(b"\x00asm\x01\x00\x00\x00", {})


def test_build_renames_lifecycle_exports_of_sources_and_sinks(tmp_path: Path) -> None:
    for kind, names in (("source", {"read", "close"}), ("sink", {"write", "flush"})):
        project = _new(kind, tmp_path)
        renamed = lang_python._copy_wit(project, tmp_path / f"wit_{kind}")
        world = (tmp_path / f"wit_{kind}" / f"{kind}.wit").read_text()
        assert names <= set(renamed)
        for name in renamed:
            assert f"export dataflare-{name}:" in world
        assert "export describe:" in world
    assert lang_python._copy_wit(_new("filter", tmp_path), tmp_path / "wit_filter") == []


# ---- the SDK on the host, through componentize-py's guest bindings ------------------------

SDK = REPO / "host" / "dataflare" / "sdk" / "python"


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """componentize-py's guest-side bindings (`wit_world`, every WIT type in its `types`)."""
    require("guests", "generates componentize-py guest bindings")
    try:
        tool = lang_python.componentize_py()
    except ToolchainMissingError as exc:
        missing(str(exc))
        raise
    out = tmp_path_factory.mktemp("guest_bindings")
    subprocess.run(
        [tool, "-d", str(REPO / "wit"), "-w", "source", "bindings", str(out)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture
def sdk(bindings: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """A fresh `dataflare_guest` (it registers one plugin per import)."""
    monkeypatch.syspath_prepend(str(SDK))
    monkeypatch.syspath_prepend(str(bindings))
    sys.modules.pop("dataflare_guest", None)
    yield importlib.import_module("dataflare_guest")
    sys.modules.pop("dataflare_guest", None)


def _types() -> Any:
    return importlib.import_module("wit_world.imports.types")


def _batch(values: list[bytes]) -> Any:
    dfbatch = importlib.import_module("dfbatch")
    return dfbatch.batch_of([_types().Record(None, v, None, []) for v in values])


def _kinds(errors: list[Any]) -> dict[int, str]:
    return {e.index: type(e.error).__name__.removeprefix("PluginError_") for e in errors}


@pytest.mark.guests
def test_sdk_errors_raised_for_a_record_fail_that_record_with_their_kind(sdk: ModuleType) -> None:
    def keep(record: Any) -> bool:
        obj = sdk.json_object(record)
        if "boom" in obj:
            raise sdk.ProcessingError("boom")
        return bool(obj.get("keep"))

    sdk.filter(name="picky")(keep)
    world = sdk.world_class("filter")
    values = [b'{"keep": true}', b"[]", b'{"boom": 1}', b'{"keep": false}', b'{"keep": 1}']
    outcome = world.filter_batch(None, _batch(values))
    assert _kinds(outcome.errors) == {1: "Serialization", 2: "Processing"}
    assert outcome.keep[0] & 0b11001 == 0b10001
    err = importlib.import_module("componentize_py_types").Err
    with pytest.raises(err) as single:
        world.filter(None, _types().Record(None, b"[]", None, []))
    assert type(single.value) is err  # componentize-py takes no subclass of `Err`
    assert single.value.value == _types().PluginError_Serialization("value is not a JSON object")


@pytest.mark.guests
def test_sdk_params_feed_describe_and_configure(sdk: ModuleType) -> None:
    limit = sdk.param("limit", int, 3, "at most this many", minimum=1)
    loud = sdk.param("loud", bool, False, "shout")
    field = sdk.param("field", str, None, "which field")
    sdk.sink(name="noisy")(lambda record: None)
    world = sdk.world_class("sink")
    info = world.describe(None)
    assert (info.name, info.version) == ("noisy", "0.1.0")
    assert [(p.name, p.required, p.default) for p in info.params] == [
        ("limit", False, "3"),
        ("loud", False, "false"),
        ("field", True, None),
    ]
    assert (limit.value, loud.value) == (3, False)
    world.configure(None, [("field", "id"), ("loud", "TRUE"), ("limit", "7")])
    assert (limit.value, loud.value, field.value) == (7, True, "id")
    err = importlib.import_module("componentize_py_types").Err
    for config, message in (
        ([], "plugin 'noisy': missing required parameter 'field'"),
        (
            [("field", "x"), ("limit", "0")],
            "plugin 'noisy': parameter 'limit' must be at least 1, got '0'",
        ),
        (
            [("field", "x"), ("limit", "1.5")],
            "plugin 'noisy': parameter 'limit' must be an integer, got '1.5'",
        ),
        (
            [("field", "x"), ("other", "1")],
            "plugin 'noisy': unknown parameter(s) 'other'; known parameters: field, limit, loud",
        ),
    ):
        with pytest.raises(err) as failed:
            world.configure(None, config)
        assert failed.value.value == _types().PluginError_Configuration(message)
    assert (limit.value, field.value) == (7, "id")  # a refused configure changes nothing


@pytest.mark.guests
def test_sdk_source_answers_pending_end_and_fails_after_close(sdk: ModuleType) -> None:
    class Two:
        def __init__(self) -> None:
            self.left = 2

        def read(self, limit: int) -> list[Any]:
            n = min(limit, self.left)
            self.left -= n
            return [sdk.record({"i": i}, key=str(i)) for i in range(n)]

    sdk.source(name="two")(Two)
    world = sdk.world_class("source")
    world.configure(None, [])
    types = _types()
    assert isinstance(world.read(None, 0), types.ReadOutcome_Pending)
    records = world.read(None, 5)
    assert isinstance(records, types.ReadOutcome_Records)
    assert records.value.values.text == '{"i":0}{"i":1}'
    assert isinstance(world.read(None, 5), types.ReadOutcome_End)
    assert world.checkpoint(None) == b""
    world.close(None)
    world.close(None)  # twice is fine
    err = importlib.import_module("componentize_py_types").Err
    for call in (lambda: world.read(None, 1), lambda: world.dataflare_checkpoint(None)):
        with pytest.raises(err) as failed:
            call()
        assert failed.value.value == types.PluginError_Io("plugin 'two' is closed")


@pytest.mark.guests
def test_sdk_aggregate_batch_keeps_the_callers_accumulator_when_every_record_fails(
    sdk: ModuleType,
) -> None:
    class Total:
        def init(self) -> float:
            return 0

        def fold(self, acc: float, record: Any) -> float:
            return acc + sdk.json_value(record)

        def merge(self, a: float, b: float) -> float:
            return a + b

        def emit(self, acc: float) -> list[Any]:
            return [sdk.record(acc)]

    sdk.aggregate(name="total")(Total)
    world = sdk.world_class("aggregate")
    assert world.init(None) == b"0"
    acc = b" 1 "  # any JSON the plugin wrote; only an untouched batch gives it back as it is
    failed = world.aggregate_batch(None, acc, _batch([b"x", b"{"]))
    assert (failed.accumulator, _kinds(failed.errors)) == (
        acc,
        {0: "Serialization", 1: "Serialization"},
    )
    folded = world.aggregate_batch(None, acc, _batch([b"2", b"x", b"3.5"]))
    assert (folded.accumulator, _kinds(folded.errors)) == (b"6.5", {1: "Serialization"})
    assert world.aggregate(None, b"6.5", _types().Record(None, b"1", None, [])) == b"7.5"
    assert world.merge(None, b"1", b"2") == b"3"
    assert world.emit(None, b"3").values.text == "3"
