"""What each guest language provides to `new` and `build`, behind one small interface.

A language module (`dataflare.authoring.lang_<lang>`) defines:

* ``SOURCE_FILE``: the file an author edits (``plugin.py``, ``src/lib.rs``, ...);
* ``BUILD_TOOLS``: one line for the project's README, naming the toolchain;
* ``vendor(root: Path) -> None``: called by `dataflare new` after the templates
  are written, to copy in what the project needs from the installed package
  (an SDK that the build cannot reach otherwise);
* ``build(project: Project, say: Callable[[str], None]) -> Path``: build
  ``project.component`` and return it. A missing tool raises
  `ToolchainMissingError` with a one-line install hint; a failed build raises
  `BuildFailedError`. `say` prints one progress line for the user.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast

from dataflare.authoring.project import Project

__all__ = ["Language", "language"]


class Language(Protocol):
    """What a guest language module provides."""

    SOURCE_FILE: str
    BUILD_TOOLS: str

    def vendor(self, root: Path) -> None:
        """Copy into a new project what its build needs from the installed package."""

    def build(self, project: Project, say: Callable[[str], None]) -> Path:
        """Build ``project.component``; return its path."""


def language(lang: str) -> Language:
    """The module that builds projects in `lang` (one of `project.LANGS`)."""
    return cast(Language, importlib.import_module(f"dataflare.authoring.lang_{lang}"))
