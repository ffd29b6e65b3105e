"""Generated code is importable, passes mypy --strict and ruff, and reads as intended."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from abi.conftest import ROOT

CASES = Path(__file__).parent / "cases"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every golden case's expected output as package `golden_<case>`, plus our bindings."""
    root = tmp_path_factory.mktemp("pkgs")
    for case in sorted(CASES.iterdir()):
        if (case / "expected").is_dir():
            shutil.copytree(case / "expected", root / f"golden_{case.name}")
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n.startswith("golden_")]:
        del sys.modules[name]


def test_every_module_imports(packages: Path) -> None:
    for pkg in sorted(packages.iterdir()):
        for module in sorted(pkg.glob("*.py")):
            name = pkg.name if module.stem == "__init__" else f"{pkg.name}.{module.stem}"
            mod = importlib.import_module(name)
            assert sorted(mod.__all__, key=str) == sorted(set(mod.__all__), key=str)
            for public in mod.__all__:
                assert hasattr(mod, public), f"{name}.__all__ names missing {public!r}"


def test_mypy_strict_passes_on_generated_code(packages: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version",
            "3.11",
            "--no-incremental",
            *sorted(str(p) for p in packages.iterdir()),
            str(ROOT / "host" / "dataflare" / "_wit"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=packages,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_passes_on_generated_code(packages: Path) -> None:
    # The project's rules; `dataflare` is first-party wherever the files live.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--config",
            str(ROOT / "pyproject.toml"),
            "--config",
            "lint.isort.known-first-party=['dataflare']",
            "--no-cache",
            str(packages),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_variant_cases_with_equal_payloads_stay_distinct(packages: Path) -> None:
    kinds = importlib.import_module("golden_variants.kinds")
    assert kinds.ShapeCircle(1.0) != kinds.ShapeSquare(1.0)
    assert kinds.Shape == kinds.ShapeCircle | kinds.ShapeSquare | kinds.ShapeNone


def test_records_are_frozen_dataclasses(packages: Path) -> None:
    import dataclasses

    shapes = importlib.import_module("golden_records.shapes")
    poly = shapes.Polygon(id=1, vertices=[], center=shapes.Point(0.0, 0.0), tags=[])
    with pytest.raises(dataclasses.FrozenInstanceError):
        poly.id = 2  # type: ignore[misc]


def test_enum_and_flags_members(packages: Path) -> None:
    kinds = importlib.import_module("golden_variants.kinds")
    assert [m.value for m in kinds.Level] == ["low", "mid-high", "type"]
    assert kinds.Mode.READ | kinds.Mode.WRITE != kinds.Mode.READ_WRITE
    assert [m.name for m in kinds.Mode] == ["READ", "WRITE", "READ_WRITE"]


def test_wit_docs_become_docstrings(packages: Path) -> None:
    documented = importlib.import_module("golden_docs.documented")
    docs = importlib.import_module("golden_docs.docs")
    assert documented.Item.__doc__ == "A record."
    assert documented.Documented.get.__doc__ == 'Returns the item "as is" '
    assert docs.Docs.hello.__doc__ == "Says hello."
    assert docs.Docs.__doc__ == "A documented world."
    assert "two paragraphs" in (documented.__doc__ or "")
