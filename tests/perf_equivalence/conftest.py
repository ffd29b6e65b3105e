"""Reuse the bindgen round-trip fixtures: the echo guest of every WIT type kind.

`world` here is one instance (the C path when built): these tests bind each
codec path to its exports themselves.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import wasmtime
from abi.conftest import (  # noqa: F401  (fixtures, found by name)
    HostFns,
    engine,
    host_fns,
    make_world,
    roundtrip_component,
    rtbind,
)
from dataflare.abi import c_ext
from wasmtime import component as wc


@pytest.fixture(scope="module")
def world(
    engine: wasmtime.Engine,  # noqa: F811
    roundtrip_component: wc.Component,  # noqa: F811
    rtbind: ModuleType,  # noqa: F811
    host_fns: HostFns,  # noqa: F811
) -> Any:
    """One fresh instance of the round-trip guest per test module."""
    return make_world(engine, roundtrip_component, rtbind, host_fns, native=c_ext.AVAILABLE)
