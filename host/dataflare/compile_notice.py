"""The one line shown while a new component compiles: "compiling NAME, first time only, about N s".

A componentize-py component compiles for seconds on a cache miss, which
looks like a hang without a word. Only the command line turns the line on
(`compile_notices`); library use stays silent. Kept free of wasmtime so
the CLI can import it without slowing `dataflare --help`.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["SECONDS_PER_MB", "announce_compile", "compile_notices", "estimate_seconds"]

SECONDS_PER_MB = 0.5
"""Compile time per MB of component on the fuel + epoch engine, 2 cores. An
18 MB componentize-py component took 5.4 s idle (0.3 s/MB) and 14-17 s with
the load at 3 (wasmtime compiles on every core, so sharing them shows);
README's 9-17 s is the usual range, so this aims at its low end."""

_MB = 1 << 20
_lock = threading.Lock()
_streams: list[TextIO | None] = [None]


def estimate_seconds(size_bytes: int) -> int:
    """Whole seconds a component of `size_bytes` takes to compile, at least 1."""
    return max(1, math.ceil(size_bytes / _MB * SECONDS_PER_MB))


@contextmanager
def compile_notices(stream: TextIO | None = None) -> Iterator[None]:
    """Print the notice to `stream` (default: `sys.stderr` now) for compiles inside the block."""
    with _lock:
        _streams.append(stream if stream is not None else sys.stderr)
    try:
        yield
    finally:
        with _lock:
            _streams.pop()


def announce_compile(name: str, size_bytes: int) -> None:
    """Print the notice for compiling `name`, if a `compile_notices` block is active."""
    with _lock:
        stream = _streams[-1]
        if stream is None:
            return
        print(
            f"compiling {name}, first time only, about {estimate_seconds(size_bytes)} s",
            file=stream,
            flush=True,
        )
