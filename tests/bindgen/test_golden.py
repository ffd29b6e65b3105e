"""Golden files: each case's WIT renders exactly to its checked-in expected/*.py.

Regenerate after an intended generator change with
`DATAFLARE_UPDATE_GOLDEN=1 python -m pytest tests/bindgen/test_golden.py`,
then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dataflare.bindgen import check, generate
from dataflare.bindgen.generate import HEADER, render_sources

CASES = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "input").is_dir())


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_renders_to_expected(case: str) -> None:
    root = CASES / case
    if os.environ.get("DATAFLARE_UPDATE_GOLDEN"):
        generate(root / "input", root / "expected")
    # `check` tolerates a different ruff version's formatting of the same code
    stale = check(root / "input", root / "expected")
    assert stale == [], f"{case}/expected/{stale} differ; see the module docstring"


def test_cases_cover_every_type_kind() -> None:
    wit = "\n".join(p.read_text() for p in CASES.glob("*/input/*.wit"))
    for kind in (
        *("bool", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64"),
        *("f32", "f64", "char", "string"),
        "list<u8>",
        "list<list<",
        "tuple<",
        "option<option<",
        "result<_,",
        "result<u32>",
        " result)",
        "variant ",
        "enum ",
        "flags ",
        "record ",
        "type ",
        "resource ",
        "constructor(",
        "static func",
        "borrow<",
        "import ",
        "export ",
        "use ",
        "///",
        ": interface {",
    ):
        assert kind in wit, f"no golden case uses {kind!r}"


def test_every_generated_file_starts_with_the_header() -> None:
    for path in CASES.glob("*/expected/*.py"):
        assert path.read_text().startswith(HEADER + "\n"), path


def test_check_reports_stale_missing_and_extra_files(tmp_path: Path) -> None:
    source = CASES / "primitives" / "input"
    out = tmp_path / "out"
    generate(source, out)
    assert check(source, out) == []
    (out / "prims.py").write_text((out / "prims.py").read_text() + "# edited\n")
    (out / "__init__.py").unlink()
    (out / "old.py").write_text(HEADER + "\n")
    (out / "mine.py").write_text("# hand-written, not ours\n")
    assert check(source, out) == ["__init__.py", "old.py", "prims.py"]
    generate(source, out)
    assert check(source, out) == []
    assert not (out / "old.py").exists()
    assert (out / "mine.py").exists()


def test_worlds_selects_a_subset() -> None:
    files = render_sources(CASES / "interfaces" / "input", worlds=["tool"])
    assert sorted(files) == ["__init__.py", "logging.py", "tool.py"]
    host = render_sources(CASES / "interfaces" / "input", worlds=["golden:interfaces/tool"])
    assert host == files
