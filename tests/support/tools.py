"""Finding external tools: skip with an install hint on a laptop, fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = bool(os.environ.get("CI"))


def missing(message: str) -> None:
    """Skip (laptop) or fail (CI) because a prerequisite is missing.

    CI must never skip silently: there every prerequisite is installed by
    `.ci/run`, so a missing one is a bug in the CI script.
    """
    if IN_CI:
        pytest.fail(f"CI is missing a prerequisite: {message}", pytrace=False)
    pytest.skip(message)


def require_tool(name: str, install_hint: str) -> str:
    """Return the path of executable `name`, or skip/fail with `install_hint`."""
    path = shutil.which(name)
    if path is None:
        missing(f"`{name}` not found; install it with: {install_hint}")
        raise AssertionError("unreachable")  # pragma: no cover
    return path
