"""Native plugins from a plain `.py` file: imported once per path, registrations kept apart.

A pipeline's `plugin_module:` and `dataflare test|check path/to/file.py` use
this. The file is imported under a module name derived from its resolved
path, so two files with the same stem do not collide, and a file is
imported once however many stages name it. While it is imported, its
`@dataflare.register` calls are captured instead of filed in the global
registry: two pipelines may each bring their own `filter/amount_min`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from dataflare.errors import InvalidPluginError, PluginNotFoundError
from dataflare.model import PluginKind
from dataflare.plugins import registry

__all__ = ["PluginFile", "load_plugin_file"]

_loaded: dict[Path, PluginFile] = {}
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class PluginFile:
    """The plugin classes one file registered, by kind and name."""

    path: Path
    classes: dict[tuple[PluginKind, str], type]

    def names(self) -> list[str]:
        """``kind/name`` of every plugin the file registered, sorted."""
        return sorted(f"{k.value}/{n}" for k, n in self.classes)

    def get(self, kind: PluginKind, name: str) -> type:
        """The class registered as `kind`/`name`; `PluginNotFoundError` lists the others."""
        found = self.classes.get((kind, name))
        if found is None:
            listed = ", ".join(self.names()) or "nothing (no @dataflare.register)"
            raise PluginNotFoundError(
                f"{self.path} registers no {kind.value} plugin named {name!r}; it registers: "
                f"{listed}"
            )
        return found

    def pick(self, kind: PluginKind | None, name: str | None) -> tuple[PluginKind, str, type]:
        """The one plugin of `kind` (any if None) named `name` (any if None).

        Raises `PluginNotFoundError` when none matches, or when several do
        (the message lists them, so the caller can pass a name).
        """
        ordered = sorted(self.classes.items(), key=lambda item: (item[0][0].value, item[0][1]))
        found = [
            (k, n, cls)
            for (k, n), cls in ordered
            if (kind is None or k is kind) and (name is None or n == name)
        ]
        if len(found) == 1:
            return found[0]
        wanted = f"{kind.value} plugin" if kind else "plugin"
        if name:
            wanted += f" named {name!r}"
        listed = ", ".join(self.names()) or "nothing (no @dataflare.register)"
        if not found:
            raise PluginNotFoundError(f"{self.path} registers no {wanted}; it registers: {listed}")
        several = ", ".join(f"{k.value}/{n}" for k, n, _ in found)
        raise PluginNotFoundError(
            f"{self.path} registers several: {several}; say which with --name NAME"
        )


def load_plugin_file(path: Path) -> PluginFile:
    """Import `path` (once) and return what it registered.

    Raises `PluginNotFoundError` when the file is missing, `InvalidPluginError`
    when importing it fails (with the traceback's last line).
    """
    resolved = path.resolve()
    with _lock:
        done = _loaded.get(resolved)
        if done is not None:
            return done
        if not resolved.is_file():
            raise PluginNotFoundError(f"plugin module not found: {resolved}")
        digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
        module_name = f"dataflare_plugin_file_{resolved.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, resolved)
        if spec is None or spec.loader is None:
            raise InvalidPluginError(f"cannot import {resolved}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look the module up
        with registry.capturing() as captured:
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[module_name]
                last = traceback.format_exception_only(type(exc), exc)[-1].strip()
                raise InvalidPluginError(f"importing {resolved} failed: {last}") from exc
        loaded = PluginFile(resolved, dict(captured))
        _loaded[resolved] = loaded
        return loaded
