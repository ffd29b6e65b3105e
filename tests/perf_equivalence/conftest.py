"""Reuse the bindgen round-trip fixtures: the echo guest of every WIT type kind."""

from __future__ import annotations

from bindgen.conftest import (  # noqa: F401  (fixtures, found by name)
    engine,
    host_fns,
    roundtrip_component,
    rtbind,
    world,
)
