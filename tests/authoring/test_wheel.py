"""The wheel carries everything `dataflare new` and `dataflare build` read from the package.

A user installs DataFlare from a wheel, not from this checkout: a template,
SDK or WIT file that package-data misses (a dotfile, a new folder) would make
`new` write an incomplete project only there. So the wheel is built, unpacked,
and made to write a project in each language, which must equal the project
this checkout writes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def source_tree(dest: Path) -> Path:
    """The checkout's files (committed or not, minus ignored ones) copied to `dest`.

    Building from the checkout itself would reuse its ``build/lib``, which can
    hold files package-data no longer selects, and hide exactly what this checks.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, target = REPO / name, dest / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return dest


def new(kind: str, lang: str, dest: Path, pythonpath: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dataflare",
            "new",
            kind,
            "wheel_check",
            "--lang",
            lang,
            "--dir",
            str(dest),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(pythonpath)},
        cwd=dest.parent,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_project_from_the_wheel_equals_one_from_the_checkout(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            str(REPO),
            "-w",
            str(tmp_path / "dist"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("dataflare-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert not [n for n in names if "/target/" in n or "node_modules" in n], names
    for lang, kind in (("python", "filter"), ("rust", "aggregate"), ("js", "source")):
        from_wheel, from_checkout = tmp_path / f"w-{lang}", tmp_path / f"c-{lang}"
        new(kind, lang, from_wheel, unpacked)
        new(kind, lang, from_checkout, REPO / "host")
        assert files(from_wheel) == files(from_checkout), lang
