"""`dataflare new` and the project manifest, without building anything."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from dataflare.authoring.project import MANIFEST, check_name, find_project, load_project
from dataflare.authoring.scaffold import WIT_VERSION, new_project
from dataflare.cli import main
from dataflare.errors import ProjectError
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
LANGS = ("python", "rust", "js")
KINDS = ("filter", "transform", "aggregate", "source", "sink")
PLACEHOLDER = re.compile(
    r"\{\{(name|Name|kind|lang|wit_version|dataflare_version|source_file|build_tools)\}\}"
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_a_project_holds_every_part_rendered(tmp_path: Path, lang: str, kind: str) -> None:
    project = new_project(kind, "amount_min", lang, tmp_path / "p")
    root = project.root
    for part in (
        "records.jsonl",
        "pipeline.yaml",
        "README.md",
        "tests/test_plugin.py",
        "tests/expected.jsonl",
        ".gitignore",
        MANIFEST,
    ):
        assert (root / part).is_file(), part
    assert load_project(root) == project
    assert (project.kind, project.lang, project.wit_version) == (kind, lang, WIT_VERSION)
    # The newest WIT, pinned, and not the older versions kept beside it.
    wit = sorted(p.name for p in (root / "wit").iterdir())
    assert wit == sorted(p.name for p in (REPO / "wit").glob("*.wit"))
    assert f"package dataflare:plugin@{WIT_VERSION};" in (root / "wit" / f"{kind}.wit").read_text()
    for path in root.rglob("*"):
        if path.is_file() and "node_modules" not in path.parts:
            assert "{{" not in path.name, path
            assert not path.name.endswith(".tmpl"), path
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not PLACEHOLDER.search(text), f"{path} keeps a placeholder"
    readme = (root / "README.md").read_text()
    assert "amount_min" in readme and kind in readme
    assert 10 <= len(readme.splitlines()) <= 30


def test_new_refuses_a_bad_name_kind_language_or_a_used_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="must start with a lowercase letter"):
        new_project("filter", "Amount-Min", "python", tmp_path / "a")
    with pytest.raises(ProjectError, match="unknown plugin kind 'map'"):
        new_project("map", "x", "python", tmp_path / "b")
    with pytest.raises(ProjectError, match="unknown language 'go'"):
        new_project("filter", "x", "go", tmp_path / "c")
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(ProjectError, match="already exists and is not an empty folder"):
        new_project("filter", "x", "python", used)
    assert [p.name for p in used.iterdir()] == ["keep.txt"]


@given(st.text(max_size=70))
def test_a_name_is_accepted_exactly_when_it_is_a_plain_identifier(name: str) -> None:
    plain = re.fullmatch(r"[a-z][a-z0-9_]*", name) is not None and len(name) <= 63
    assert (check_name(name) is None) == plain


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "missing the [plugin] table"),
        ("[plugin\n", "Expected"),
        ('[plugin]\nname = "x"\nkind = "map"\nlang = "python"\nwit = "0.2.0"\n', "kind = 'map'"),
        ('[plugin]\nname = "x"\nkind = "filter"\nwit = "0.2.0"\n', "lang must be a non-empty"),
        ('[plugin]\nname = "X y"\nkind = "filter"\nlang = "js"\nwit = "0.2.0"\n', "name:"),
    ],
)
def test_a_bad_manifest_is_named_with_its_field(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(ProjectError, match=re.escape(problem)) as info:
        load_project(tmp_path)
    assert str(tmp_path / MANIFEST) in str(info.value)


def test_the_project_is_found_from_a_folder_inside_it(tmp_path: Path) -> None:
    project = new_project("sink", "out", "python", tmp_path / "out")
    (project.root / "deep" / "er").mkdir(parents=True)
    assert find_project(project.root / "deep" / "er") == project
    assert find_project(tmp_path) is None
    assert tomllib.loads((project.root / MANIFEST).read_text())["plugin"]["name"] == "out"


def test_the_cli_names_what_is_missing_outside_a_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 2
    assert f"no {MANIFEST} in {tmp_path}" in capsys.readouterr().err
    assert main(["check"]) == 2
    assert "no PLUGIN given" in capsys.readouterr().err
    assert main(["inspect"]) == 2
    assert "no PLUGIN given" in capsys.readouterr().err
    assert main(["new", "filter", "amount_min", "--lang", "python"]) == 0
    out = capsys.readouterr().out
    assert "created filter plugin 'amount_min' (python) in amount_min/" in out
    monkeypatch.chdir(tmp_path / "amount_min")
    for command in ("check", "test", "inspect"):
        assert main([command]) == 2  # not built yet: says how
        assert "not built yet; run `dataflare build" in capsys.readouterr().err
    assert main(["new", "filter", "amount_min", "--dir", "."]) == 2
    assert "already exists" in capsys.readouterr().err
