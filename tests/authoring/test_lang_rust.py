"""Rust plugin projects: `new` -> `build` -> load, outside the repo, for each of the five kinds.

Each project is made in a temporary folder (never inside the checkout), so
the build must use only what the package ships: the templates, the WIT and
the vendored `dataflare-guest` SDK, with cargo offline and locked.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dataflare
import pyarrow as pa
import pytest
from dataflare import columns
from dataflare.authoring import lang_rust
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
from hypothesis import given
from hypothesis import strategies as st
from support.markers import require
from support.tools import missing

pytestmark = [pytest.mark.guests, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _toolchain_or_missing() -> None:
    require("guests", "builds Rust plugin projects")
    if lang_rust.find_toolchain() is None:
        missing(lang_rust.RUST_HINT)
    if lang_rust._find_wasm_tools() is None:
        missing(lang_rust.WASM_TOOLS_HINT)


def _new(kind: str, folder: Path, name: str | None = None) -> Project:
    name = name or f"my_{kind}"
    project = new_project(kind, name, "rust", folder / name)
    assert REPO not in project.root.parents, "projects are tested outside the checkout"
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    """One project of each kind, made and built once for the module."""
    _toolchain_or_missing()
    folder = tmp_path_factory.mktemp("rust_projects")
    projects = {}
    for kind in KINDS:
        project = _new(kind, folder)
        said: list[str] = []
        assert lang_rust.build(project, said.append) == project.component
        assert project.component.is_file() and said
        projects[kind] = project
    return projects


def _open(built: dict[str, Project], kind: str, **config: str) -> Any:
    return dataflare.open_plugin(built[kind].component, kind, config=config)


def _batch(values: list[bytes]) -> pa.RecordBatch:
    return columns.from_values(pa.array(values, pa.binary()))


def _json(record: Record) -> object:
    return json.loads(record.value)


def test_new_vendors_the_sdk_and_locks_the_project(tmp_path: Path) -> None:
    project = _new("filter", tmp_path)
    sdk = project.root / lang_rust.VENDOR_DIR
    assert (sdk / "Cargo.toml").is_file() and (sdk / "src" / "lib.rs").is_file()
    assert not (sdk / "target").exists() and not (sdk / "Cargo.lock").exists()
    # cargo (under --locked) takes only a lock file with the packages in name order
    for name in ("my_filter", "amount_min"):
        lock = (_new("filter", tmp_path / name, name).root / "Cargo.lock").read_text()
        names = [line for line in lock.splitlines() if line.startswith("name = ")]
        assert names == sorted([f'name = "{name}"', 'name = "dataflare-guest"'])
    assert "[workspace]" in (project.root / "Cargo.toml").read_text()
    assert 'PluginInfo::filter("my_filter")' in (project.root / lang_rust.SOURCE_FILE).read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_passes_check_with_its_defaults(built: dict[str, Project], kind: str) -> None:
    project = built[kind]
    env = {**os.environ, "PYTHONPATH": str(Path(dataflare.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "dataflare", "check", f"build/{project.name}.wasm"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PASSED" in done.stdout


def test_filter_keeps_amounts_above_min(built: dict[str, Project]) -> None:
    plugin = _open(built, "filter")
    assert plugin.describe().params[0].default == "10"
    assert plugin.filter(Record(b'{"amount": 10.5}')) is True
    for value in (b'{"amount": 10}', b'{"amount": "11"}', b'{"other": 11}', b"{}"):
        assert plugin.filter(Record(value)) is False
    for value in (b"[1]", b"11", b"not json"):
        with pytest.raises(SerializationError):
            plugin.filter(Record(value))
    with pytest.raises(ConfigurationError):
        _open(built, "filter", min="ten")


@given(amount=st.floats(-1e6, 1e6, allow_nan=False), minimum=st.integers(-100, 100))
def test_filter_agrees_with_the_rule_in_batches(
    built: dict[str, Project], amount: float, minimum: int
) -> None:
    plugin = _open(built, "filter", min=str(minimum))
    values = [json.dumps({"amount": amount}).encode(), b'{"amount": null}', b"[]"]
    result = plugin.filter_columns(_batch(values))
    assert result.keep.to_pylist() == [amount > minimum, False, False]
    assert [(i, e.kind) for i, e in result.errors.items()] == [(2, "serialization")]


def test_transform_sets_the_tag_and_keeps_the_rest(built: dict[str, Project]) -> None:
    plugin = _open(built, "transform")
    record = Record(b'{"a": 1, "tag": 0}', key=b"k", timestamp=7, metadata={"m": "v"})
    out = plugin.transform(record)
    assert _json(out) == {"a": 1, "tag": "seen"}
    assert (out.key, out.timestamp, dict(out.metadata)) == (b"k", 7, {"m": "v"})
    tagged = _open(built, "transform", tag="x")
    result = tagged.transform_columns(_batch([b"{}", b"1"]))
    assert json.loads(result.batch.column("value")[0].as_py()) == {"tag": "x"}
    assert [(i, e.kind) for i, e in result.errors.items()] == [(1, "serialization")]


def test_aggregate_counts_groups_merges_and_emits_in_code_point_order(
    built: dict[str, Project],
) -> None:
    plugin = _open(built, "aggregate")
    acc = plugin.init()
    assert acc == b"{}"
    for value in (b'{"region": "b"}', b'{"region": "\xc3\xa9"}', b'{"region": 5}'):
        acc = plugin.aggregate(acc, Record(value))
    with pytest.raises(ProcessingError, match='missing field "region"'):
        plugin.aggregate(acc, Record(b'{"x": 1}'))
    with pytest.raises(SerializationError):
        plugin.aggregate(acc, Record(b"[]"))
    other = plugin.aggregate(b"{}", Record(b'{"region": "b"}'))
    other = plugin.aggregate(other, Record(b'{"region": "Z"}'))
    merged = plugin.merge(acc, other)
    assert json.loads(merged) == {"5": 1, "Z": 1, "b": 2, "é": 1}
    emitted = plugin.emit(merged)
    assert [r.key for r in emitted] == [b"5", b"Z", b"b", "é".encode()]
    assert [_json(r) for r in emitted][2] == {"group": "b", "count": 2}
    by_group = _open(built, "aggregate", group_by="n")
    fold = by_group.aggregate_columns(b"{}", _batch([b'{"n": [1, 2]}', b"{}"]))
    assert json.loads(fold.accumulator) == {"[1,2]": 1}
    assert [(i, e.kind) for i, e in fold.errors.items()] == [(1, "processing")]


def test_source_reads_count_records_and_resumes_from_a_checkpoint(
    built: dict[str, Project],
) -> None:
    plugin = _open(built, "source", count="3")
    plugin.connect()
    first = columns.to_records(plugin.read_columns(2))
    assert [(r.key, _json(r), r.timestamp, dict(r.metadata)) for r in first] == [
        (b"0", {"n": 0}, None, {}),
        (b"1", {"n": 1}, None, {}),
    ]
    assert plugin.checkpoint() == b"2"
    assert [_json(r) for r in plugin.read(5)] == [{"n": 2}]
    assert plugin.read_columns(5) is columns.END
    plugin.restore(b"1")
    assert [r.key for r in plugin.read(5)] == [b"1", b"2"]
    with pytest.raises(SerializationError):
        plugin.restore(b"one")
    plugin.close()
    for bad in ("-1", "1.5", "x"):
        with pytest.raises(ConfigurationError):
            _open(built, "source", count=bad)
    default = _open(built, "source")
    default.connect()
    assert len(default.read(100)) == 5


def test_sink_logs_accepted_records_and_rejects_the_rest(
    built: dict[str, Project], caplog: pytest.LogCaptureFixture
) -> None:
    plugin = _open(built, "sink")
    plugin.connect()
    with caplog.at_level(logging.INFO, logger="dataflare.plugin"):
        plugin.write(Record(b'{"id": 1}'))
        batch = _batch([b'{"id": 2}', b'{"x": 1}', b"[]"])
        errors = plugin.write_columns(batch)
    assert {i: e.kind for i, e in errors.items()} == {1: "processing", 2: "serialization"}
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines == ['my_sink: {"id": 1}', 'my_sink: {"id": 2}']
    with pytest.raises(ProcessingError):
        _open(built, "sink", required="x").write(Record(b'{"id": 1}'))
    plugin.flush()
    plugin.close()


def test_a_missing_rust_toolchain_gives_the_install_hint_and_builds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _new("filter", tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("HOME", str(empty))
    monkeypatch.setenv("RUSTUP_HOME", str(empty))
    monkeypatch.delenv("RUSTC", raising=False)
    monkeypatch.setattr(lang_rust, "DEBIAN_RUSTC", empty / "rustc")
    with pytest.raises(ToolchainMissingError) as caught:
        lang_rust.build(project, lambda line: None)
    assert str(caught.value) == lang_rust.RUST_HINT
    assert "\n" not in str(caught.value)
    assert not project.build_dir.exists()


def test_a_missing_wasm_tools_gives_its_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _new("filter", tmp_path)
    found = lang_rust.RustToolchain(Path("rustc"), Path("cargo"), "wasm32-unknown-unknown")
    monkeypatch.setattr(lang_rust, "find_toolchain", lambda: found)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nowhere" / "python"))
    with pytest.raises(ToolchainMissingError, match=r"^wasm-tools not found; install it with: pip"):
        lang_rust.build(project, lambda line: None)
    assert not project.build_dir.exists()


def test_a_compile_error_names_the_file_and_leaves_no_component(tmp_path: Path) -> None:
    _toolchain_or_missing()
    # a name before "dataflare-guest": cargo checks the lock file's order before compiling
    project = _new("filter", tmp_path, "amount_min")
    source = project.root / lang_rust.SOURCE_FILE
    source.write_text(source.read_text() + "\nfn broken( {\n")  # a syntax error
    with pytest.raises(BuildFailedError) as caught:
        lang_rust.build(project, lambda line: None)
    message = str(caught.value)
    assert "src/lib.rs" in message and "error" in message
    assert "Compiling" not in message  # the error lines, not cargo's progress
    assert not project.component.exists()
    assert not [p for p in project.build_dir.iterdir() if p.suffix == ".wasm"]


def test_the_batch_helpers_give_arrow_batches(built: dict[str, Project]) -> None:
    """The template plugins export real columnar batches (the SDK's batch helpers)."""
    emitted = _open(built, "aggregate").emit_columns(b'{"a": 2}')
    assert isinstance(emitted, pa.RecordBatch) and emitted.schema.equals(columns.SCHEMA)


JCO_ADAPTER = (
    REPO
    / "guest-examples/js/node_modules/@bytecodealliance/jco/lib"
    / "wasi_snapshot_preview1.reactor.wasm"
)


def test_a_wasi_only_std_builds_with_an_adapter_and_names_it_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rustup's wasm32-wasip1 (Debian's wasm32-wasi) when no wasm32-unknown-unknown std is there."""
    _toolchain_or_missing()
    monkeypatch.setattr(lang_rust, "TARGETS", ("wasm32-wasip1", "wasm32-wasi"))
    if lang_rust.find_toolchain() is None:
        missing("no rustc with a wasm32-wasip1 or wasm32-wasi std")
    project = _new("filter", tmp_path)
    monkeypatch.delenv(lang_rust.ADAPTER_ENV, raising=False)
    with pytest.raises(ToolchainMissingError, match=lang_rust.ADAPTER_ENV):
        lang_rust.build(project, lambda line: None)
    assert not project.build_dir.exists()
    if not JCO_ADAPTER.is_file():
        missing(f"WASI adapter not found at {JCO_ADAPTER}; npm ci --prefix guest-examples/js")
    monkeypatch.setenv(lang_rust.ADAPTER_ENV, str(JCO_ADAPTER))
    plugin = dataflare.open_plugin(lang_rust.build(project, lambda line: None), config={})
    assert plugin.filter(Record(b'{"amount": 11}')) is True
    assert plugin.filter(Record(b'{"amount": 9}')) is False


def test_a_project_inside_another_cargo_workspace_builds_on_its_own(tmp_path: Path) -> None:
    """The template's own [workspace]: cargo never "believes it's in a workspace" above it."""
    _toolchain_or_missing()
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["other"]\n')
    project = _new("transform", tmp_path)
    assert lang_rust.build(project, lambda line: None).is_file()
    assert not (tmp_path / "Cargo.lock").exists()
