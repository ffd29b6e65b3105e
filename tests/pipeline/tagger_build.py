"""Building the hot-plug test guest (tests/fixtures/hotplug_tagger) in three builds; no tests here.

Each build is cached under build/test-components/ (`support.rust_component`),
so a session builds them at most once.
"""

from __future__ import annotations

from pathlib import Path

from support.rust_component import rust_component_cached

ROOT = Path(__file__).resolve().parents[2]
CRATE = ROOT / "tests" / "fixtures" / "hotplug_tagger"
WIT = ROOT / "wit"
BUILD = ROOT / "build" / "test-components"

FEATURES = {"v1": "", "v2": "v2", "trap_configure": "trap_configure"}
"""Build name -> cargo feature (see the crate's doc)."""


def tagger(build: str) -> Path:
    """The component of `build` (``v1``, ``v2`` or ``trap_configure``), built if stale."""
    feature = FEATURES[build]
    return rust_component_cached(
        name=f"tagger-{build}",
        crate=CRATE,
        wit=WIT,
        world="transform",
        cache=BUILD,
        features=["--features", feature] if feature else [],
    )
