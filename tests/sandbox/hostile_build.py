"""Building the hostile guests from source (not a test module).

The componentize-py transform takes ~10 s, so it is cached under
build/test-components/, keyed by a hash of its source, our WIT and the tool.
"""

from __future__ import annotations

from pathlib import Path

from support.componentize import componentize_cached

ROOT = Path(__file__).resolve().parents[2]
WIT = ROOT / "wit"
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
BUILD = ROOT / "build" / "test-components"


def hostile_transform() -> Path:
    """The componentize-py hostile transform (see its docstring), built once per source hash."""
    return componentize_cached(
        name="hostile_transform",
        source=HOSTILE / "hostile_transform",
        wit=WIT,
        world="transform",
        cache=BUILD,
    )
