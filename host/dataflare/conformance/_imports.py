"""The import policy: which interfaces a plugin component may ask the host for.

The policy, from most to least trusted:

* **allowed**: the world's own imports (``dataflare:plugin/log``, and
  ``dataflare:plugin/types``, which holds only types), and the WASI 0.2.x
  interfaces every guest toolchain pulls in and that carry no capability
  beyond what the sandbox hands out: ``wasi:cli/*`` (empty environment and
  arguments; stdout/stderr go to the plugin's log), ``wasi:clocks/*``,
  ``wasi:io/*``, ``wasi:random/*``.
* **warning**: ``wasi:filesystem/*`` and ``wasi:sockets/*``. The host links
  them, but the sandbox preopens no directory and grants no network, so any
  use fails at run time. componentize-py (and wasm32-wasi Rust) always
  import them, hence a warning, not a failure: the run still passes.
* **failure**: anything the host cannot link, so the component cannot even be
  instantiated: another package (``acme:net/fetch``), an interface of ours
  outside the world (``dataflare:plugin/secrets``), a WASI interface the
  host does not provide (``wasi:http/*``, ``wasi:keyvalue/*``), or WASI at a
  version other than 0.2.x.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from dataflare.abi.rt import WorldSpec
from dataflare.runtime.worlds import PACKAGE

__all__ = ["BASELINE_WASI", "CAPABILITY_WASI", "ImportVerdict", "classify_imports"]

BASELINE_WASI = frozenset({"cli", "clocks", "io", "random"})
"""WASI 0.2 packages allowed without comment."""
CAPABILITY_WASI = {
    "filesystem": "no directory is preopened",
    "sockets": "no network is granted",
}
"""WASI 0.2 packages that are linked but inert in the sandbox: a warning, with why."""

_NAME = re.compile(
    r"^(?P<ns>[a-z0-9-]+):(?P<pkg>[a-z0-9-]+)/(?P<iface>[a-z0-9-]+)(?:@(?P<ver>.+))?$"
)
_OWN_TYPES = "types"


@dataclass(frozen=True, slots=True)
class ImportVerdict:
    """Imports sorted by the policy: `allowed`, `warned` (with reasons), `refused`."""

    allowed: tuple[str, ...]
    warned: tuple[tuple[str, str], ...]
    refused: tuple[tuple[str, str], ...]


def classify_imports(imports: Collection[str], world: WorldSpec | None) -> ImportVerdict:
    """Apply the policy to a component's import names for `world` (None: any world)."""
    allowed: list[str] = []
    warned: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    own = {_OWN_TYPES}
    for name in world.imports if world else ():
        found = _NAME.match(name)
        if found is not None:
            own.add(found["iface"])
    if world is None:
        own.add("log")
    for name in sorted(imports):
        match = _NAME.match(name)
        if match is None:
            refused.append((name, "not an interface name the host links"))
            continue
        package = f"{match['ns']}:{match['pkg']}"
        version = match["ver"] or ""
        if package == PACKAGE:
            if match["iface"] in own:
                allowed.append(name)
            else:
                refused.append((name, f"interface {match['iface']!r} is not part of the world"))
        elif match["ns"] == "wasi":
            if not version.startswith("0.2."):
                refused.append((name, "the host links WASI 0.2.x only"))
            elif match["pkg"] in BASELINE_WASI:
                allowed.append(name)
            elif match["pkg"] in CAPABILITY_WASI:
                warned.append((name, CAPABILITY_WASI[match["pkg"]]))
            else:
                refused.append((name, f"the host does not provide wasi:{match['pkg']}"))
        else:
            refused.append((name, f"package {package!r} is not provided by the host"))
    return ImportVerdict(tuple(allowed), tuple(warned), tuple(refused))
