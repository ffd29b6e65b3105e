"""What a plugin may reach beyond its own memory: granted dirs, env vars, stdout.

The default, `DENY_ALL`, grants nothing: no files, no environment, and guest
stdout/stderr are discarded (counted, never shown). A pipeline grants more
per stage with ``allow: {dirs: [{host, guest, mode}], env: [NAMES], stdout}``.
Network is never granted (WASI sockets stay closed whatever `allow` says).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import wasmtime

__all__ = ["DENY_ALL", "Capabilities", "DirGrant", "DirMode", "apply_capabilities"]

DirMode = Literal["ro", "rw"]


@dataclass(frozen=True, slots=True)
class DirGrant:
    """Host folder `host` visible to the guest at `guest`; `ro` forbids writes."""

    host: Path
    guest: str
    mode: DirMode = "ro"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The grants of one plugin; the defaults deny everything."""

    dirs: tuple[DirGrant, ...] = ()
    env: tuple[str, ...] = ()
    stdout: bool = False
    extra_env: Mapping[str, str] = field(default_factory=dict)
    """Explicit values (tests); `env` names are read from the host environment."""


DENY_ALL = Capabilities()


def apply_capabilities(wasi: wasmtime.WasiConfig, caps: Capabilities) -> None:
    """Preopen granted dirs and pass only the named env vars that the host has set.

    A granted dir that does not exist is an error now, not a puzzling io error
    inside the guest later.
    """
    for grant in caps.dirs:
        if not grant.host.is_dir():
            raise ValueError(f"granted dir {str(grant.host)!r} is not a directory on the host")
        wasi.preopen_dir(str(grant.host), grant.guest, grant.mode == "rw")
    pairs = [(name, os.environ[name]) for name in caps.env if name in os.environ]
    pairs += list(caps.extra_env.items())
    if pairs:
        wasi.env = pairs
