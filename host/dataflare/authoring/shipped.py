"""Files shipped inside the `dataflare` package (SDKs, WIT), copied into a project."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["copy_shipped"]


def copy_shipped(folder: str, suffix: str, target: Path) -> None:
    """Copy the files of package folder `folder` (e.g. ``sdk/js``) whose names end in `suffix`.

    Only the folder's own files, not its subfolders (where older versions
    live); `target` is made if missing. Works for a package in a folder or a zip.
    """
    target.mkdir(parents=True, exist_ok=True)
    for entry in resources.files("dataflare").joinpath(*folder.split("/")).iterdir():
        if entry.is_file() and entry.name.endswith(suffix):
            (target / entry.name).write_bytes(entry.read_bytes())
