"""Checking an entry's `limits` and `allow` (WASM stages only), with located problems."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from dataflare.pipeline._checks import U32_MAX, Checker, type_name
from dataflare.pipeline._yaml import Located
from dataflare.pipeline.stage_limits import DEFAULT_LIMITS, LIMIT_KEYS, StageLimits
from dataflare.runtime.capabilities import DENY_ALL, Capabilities, DirGrant, DirMode
from dataflare.runtime.limits import UNLIMITED

__all__ = ["ALLOW_KEYS", "SandboxChecker"]

ALLOW_KEYS = ("dirs", "env", "stdout")
DIR_KEYS = ("host", "guest", "mode")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_MEMORY_MB = 4096  # wasm32 cannot address more
_MOST: dict[str, int] = {
    # Fuel is a u64 budget and wasmtime wraps a bigger one silently.
    "fuel_per_record": UNLIMITED,
    # About 49 days; epoch deadlines are u64 ticks, so far more would wrap.
    "timeout_ms_per_batch": U32_MAX,
    # A record's value is a WIT list<u8>, whose length is a u32.
    "max_record_bytes": U32_MAX,
}


class SandboxChecker(Checker):
    """Validates `limits` and `allow` of one entry."""

    def limits(self, node: Located, where: str) -> StageLimits | None:
        """The stage's limits: defaults for every key not given; None if invalid."""
        if node.value is None:
            return DEFAULT_LIMITS
        if not self.mapping(node, where, "`limits`"):
            return None
        ok = self.unknown_keys(node, LIMIT_KEYS, f"{where} limits")
        values: dict[str, int | None] = {}
        for key, item in node.value.items():
            if key not in LIMIT_KEYS:
                continue
            if key == "fuel_per_record" and item.value is None:
                values[key] = None
                continue
            number = self.positive_int(item, where, f"`limits.{key}`", _MOST.get(key))
            if number is None:
                ok = False
            elif key == "memory_mb" and number > _MAX_MEMORY_MB:
                self.p.add(
                    item.mark,
                    where,
                    f"`limits.memory_mb`: at most {_MAX_MEMORY_MB} (a wasm32 guest cannot use "
                    f"more), got {number}",
                )
                ok = False
            else:
                values[key] = number
        if not ok:
            return None
        return StageLimits(
            memory_mb=_int(values.get("memory_mb", DEFAULT_LIMITS.memory_mb)),
            timeout_ms_per_batch=_int(
                values.get("timeout_ms_per_batch", DEFAULT_LIMITS.timeout_ms_per_batch)
            ),
            fuel_per_record=values.get("fuel_per_record", DEFAULT_LIMITS.fuel_per_record),
            max_record_bytes=_int(values.get("max_record_bytes", DEFAULT_LIMITS.max_record_bytes)),
        )

    def allow(self, node: Located, where: str) -> Capabilities | None:
        """The stage's grants (nothing not named); None if invalid."""
        if node.value is None:
            return DENY_ALL
        if not self.mapping(node, where, "`allow`"):
            return None
        ok = self.unknown_keys(node, ALLOW_KEYS, f"{where} allow")
        allow: dict[str, Located] = node.value
        dirs: list[DirGrant] = []
        if "dirs" in allow and allow["dirs"].value is not None:
            items = allow["dirs"]
            if not isinstance(items.value, list):
                self.p.add(
                    items.mark,
                    where,
                    f"`allow.dirs`: expected a list of {{host, guest, mode}}, got "
                    f"{type_name(items.value)}",
                )
                ok = False
            else:
                for index, item in enumerate(items.value):
                    grant = self._dir(item, f"{where} allow.dirs[{index}]")
                    ok &= grant is not None
                    if grant is not None:
                        dirs.append(grant)
        env: list[str] = []
        if "env" in allow and allow["env"].value is not None:
            names = allow["env"]
            if not isinstance(names.value, list):
                self.p.add(
                    names.mark,
                    where,
                    f"`allow.env`: expected a list of variable names, got {type_name(names.value)}",
                )
                ok = False
            else:
                for name in names.value:
                    if not isinstance(name.value, str) or not _ENV_NAME.match(name.value):
                        self.p.add(
                            name.mark,
                            where,
                            f"`allow.env`: expected a variable name (letters, digits, _), got "
                            f"{name.value!r}",
                        )
                        ok = False
                    else:
                        env.append(name.value)
        stdout = False
        if "stdout" in allow:
            flag = allow["stdout"]
            if not isinstance(flag.value, bool):
                self.p.add(
                    flag.mark, where, f"`allow.stdout`: expected true or false, got {flag.value!r}"
                )
                ok = False
            else:
                stdout = flag.value
        return Capabilities(tuple(dirs), tuple(env), stdout) if ok else None

    def _dir(self, item: Located, where: str) -> DirGrant | None:
        if not isinstance(item.value, dict):
            self.p.add(
                item.mark,
                where,
                f"expected a mapping {{host, guest, mode}}, got {type_name(item.value)}",
            )
            return None
        ok = self.unknown_keys(item, DIR_KEYS, where)
        entry: dict[str, Located] = item.value
        host = guest = None
        for key in ("host", "guest"):
            if key not in entry:
                self.p.add(item.mark, where, f"missing `{key}`")
                ok = False
        if "host" in entry:
            text = self.string(entry["host"], where, "`host` (a folder on this machine)")
            if text is not None:
                host = (self.base / text).resolve()
                if not host.is_dir():
                    self.p.add(entry["host"].mark, where, f"`host`: not a directory: {host}")
                    ok = False
        if "guest" in entry:
            guest = self.string(entry["guest"], where, "`guest` (the path the plugin sees)")
            if guest is not None and not PurePosixPath(guest).is_absolute():
                self.p.add(
                    entry["guest"].mark, where, f"`guest`: expected an absolute path, got {guest!r}"
                )
                ok = False
        mode: DirMode = "ro"
        if "mode" in entry:
            text = self.string(entry["mode"], where, "`mode`")
            if text == "rw":
                mode = "rw"
            elif text != "ro":
                if text is not None:
                    self.p.add(
                        entry["mode"].mark, where, f"`mode`: expected ro or rw, got {text!r}"
                    )
                ok = False
        if not ok or host is None or guest is None:
            return None
        return DirGrant(host, guest, mode)


def _int(value: int | None) -> int:
    assert value is not None
    return value
