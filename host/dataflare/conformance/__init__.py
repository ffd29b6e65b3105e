"""The conformance suite: does a component behave as its DataFlare world requires?

`run_checks(path, ...)` runs every check and returns a `Report`;
`render_text` / `render_json` present it. `dataflare check` and the pytest
plugin (`pytest --dataflare-plugin PATH`) are thin layers over these.

Names load on first use, so importing this package (as pytest does for the
plugin in every run) costs nothing until a check actually runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataflare.conformance._imports import classify_imports
    from dataflare.conformance._model import (
        CHECK_NAMES,
        DEFAULT_EXAMPLES,
        SCHEMA_VERSION,
        Budget,
        CheckResult,
        Report,
        Status,
    )
    from dataflare.conformance._report import render_json, render_text
    from dataflare.conformance._runner import run_checks

__all__ = [
    "CHECK_NAMES",
    "DEFAULT_EXAMPLES",
    "SCHEMA_VERSION",
    "Budget",
    "CheckResult",
    "Report",
    "Status",
    "classify_imports",
    "render_json",
    "render_text",
    "run_checks",
]

_WHERE = {
    "CHECK_NAMES": "_model",
    "DEFAULT_EXAMPLES": "_model",
    "SCHEMA_VERSION": "_model",
    "Budget": "_model",
    "CheckResult": "_model",
    "Report": "_model",
    "Status": "_model",
    "classify_imports": "_imports",
    "render_json": "_report",
    "render_text": "_report",
    "run_checks": "_runner",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
