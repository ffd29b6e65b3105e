"""Native plugins by kind and name: a decorator, entry points, and lookup.

Two ways in:

* `@register(kind, name)` on a class, at import time;
* the `dataflare.plugins` entry-point group of any installed distribution:
  the value is ``"module:Class"``; the name is ``"<kind>.<name>"`` (e.g.
  ``filter.only_eu``), or a bare ``name`` whose kind is read from the class's
  `kind` attribute. Entry points are loaded only when looked up.

A class is validated when it is registered or loaded, never on first call
(pluggy's lesson): it must have every method its kind's protocol in
`dataflare.plugins.kinds` declares, with a compatible number of parameters,
and no abstract methods left. A bad class raises `InvalidPluginError` naming
the plugin, the method and what is wrong.

The built-in plugins (`dataflare.builtin`, and the pipeline's connectors in
`dataflare.connectors`) are declared the way entry points are: each of those
packages has a `PLUGINS` table mapping ``"<kind>.<name>"`` to
``"module:Class"``, and a plugin's module is imported only when that plugin
is looked up. So listing names imports nothing, and psycopg loads only for a
pipeline that uses ``postgres``. Built-ins win over entry points of the same
name.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar

from dataflare.errors import InvalidPluginError, PluginNotFoundError
from dataflare.model import PluginKind
from dataflare.plugins import kinds

__all__ = [
    "ENTRY_POINT_GROUP",
    "Registry",
    "available",
    "capturing",
    "get",
    "parse_kind",
    "register",
    "validate_plugin_class",
]

ENTRY_POINT_GROUP = "dataflare.plugins"

_log = logging.getLogger(__name__)

C = TypeVar("C", bound=type)

_PROTOCOLS: dict[PluginKind, type] = {
    PluginKind.FILTER: kinds.FilterPlugin,
    PluginKind.TRANSFORM: kinds.TransformPlugin,
    PluginKind.AGGREGATE: kinds.AggregatePlugin,
    PluginKind.SOURCE: kinds.SourcePlugin,
    PluginKind.SINK: kinds.SinkPlugin,
}


def parse_kind(kind: PluginKind | str) -> PluginKind:
    """`kind` as a `PluginKind`; raises `PluginNotFoundError` listing the kinds."""
    if isinstance(kind, PluginKind):
        return kind
    try:
        return PluginKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in PluginKind)
        raise PluginNotFoundError(f"unknown plugin kind {kind!r}; kinds are: {known}") from None


class Registry:
    """Plugin classes by kind and name, fed by `register` and by entry points."""

    def __init__(
        self,
        entry_points_fn: Callable[[], Iterable[EntryPoint]] | None = None,
        *,
        builtins: tuple[str, ...] = (),
    ) -> None:
        """`entry_points_fn` lists the group's entry points; each of the `builtins` modules
        has a `PLUGINS` table (``"<kind>.<name>"`` -> ``"module:Class"``), read on first use."""
        self._classes: dict[PluginKind, dict[str, type]] = {k: {} for k in PluginKind}
        self._entry_points_fn = entry_points_fn or _group_entry_points
        self._builtins = builtins
        # Entry points not loaded yet: keyed by (kind, name) when the name says
        # the kind, else by bare name (the class must be loaded to learn it).
        self._pending: dict[tuple[PluginKind, str], EntryPoint] | None = None
        self._pending_bare: dict[str, EntryPoint] = {}
        self._lock = threading.RLock()
        # Set while a plugin file is imported: its registrations go here instead.
        self._capture: dict[tuple[PluginKind, str], type] | None = None

    @contextmanager
    def capturing(self) -> Iterator[dict[tuple[PluginKind, str], type]]:
        """Within the block, this thread's registrations are collected, not filed."""
        with self._lock:
            outer, self._capture = self._capture, {}
            try:
                yield self._capture
            finally:
                self._capture = outer

    def register(self, kind: PluginKind | str, name: str) -> Callable[[C], C]:
        """Class decorator: validate the class and file it under `kind` and `name`."""
        plugin_kind = _register_kind(kind, name)

        def decorate(cls: C) -> C:
            self.add(plugin_kind, name, cls)
            return cls

        return decorate

    def add(self, kind: PluginKind | str, name: str, cls: type) -> None:
        """Validate `cls` and file it; the same class twice is fine, another one is not."""
        plugin_kind = _register_kind(kind, name)
        validate_plugin_class(plugin_kind, name, cls)
        with self._lock:
            if self._capture is not None:
                self._capture[(plugin_kind, name)] = cls
                _default_name(cls, name)
                return
            existing = self._classes[plugin_kind].get(name)
            if existing is not None and existing is not cls:
                raise InvalidPluginError(
                    f"{plugin_kind.value} plugin {name!r} is already registered by "
                    f"{_qualname(existing)}; cannot register {_qualname(cls)}"
                )
            self._classes[plugin_kind][name] = cls
        _default_name(cls, name)

    def get(self, kind: PluginKind | str, name: str) -> type:
        """The class registered as `kind`/`name`.

        Raises `PluginNotFoundError` listing the available names of that kind,
        or `InvalidPluginError` when the entry point that provides it is broken.
        """
        plugin_kind = parse_kind(kind)
        self._load_builtins()
        with self._lock:
            found = self._classes[plugin_kind].get(name)
            if found is not None:
                return found
            pending = self._pending_points()
            point = pending.get((plugin_kind, name))
            if point is not None:
                cls = self._load_point(point, plugin_kind, name)
                del pending[(plugin_kind, name)]
                return cls
            bare = self._pending_bare.get(name)
            if bare is not None:
                cls = self._load_bare(bare)
                if self._classes[plugin_kind].get(name) is cls:
                    return cls
        listed = ", ".join(self.available(plugin_kind)) or "none"
        raise PluginNotFoundError(
            f"no {plugin_kind.value} plugin named {name!r}; available: {listed}"
        )

    def available(self, kind: PluginKind | str) -> list[str]:
        """Sorted names of every plugin of `kind`, registered or from entry points.

        Bare-named entry points are loaded to learn their kind; a broken one is
        logged and left out here (looking it up by name raises instead).
        """
        plugin_kind = parse_kind(kind)
        self._load_builtins()
        with self._lock:
            names = set(self._classes[plugin_kind])
            names.update(n for k, n in self._pending_points() if k is plugin_kind)
            for point in list(self._pending_bare.values()):
                try:
                    self._load_bare(point)
                except InvalidPluginError as exc:
                    _log.warning("%s", exc)
            names.update(self._classes[plugin_kind])
        return sorted(names)

    def _load_builtins(self) -> None:
        """Read the builtins' `PLUGINS` tables into the pending plugins (nothing is loaded)."""
        with self._lock:
            modules, self._builtins = self._builtins, ()
            pending = self._pending_points() if modules else {}
            for module in modules:
                table: dict[str, str] = importlib.import_module(module).PLUGINS
                for key, target in table.items():
                    kind_text, _, name = key.partition(".")
                    kind = PluginKind(kind_text)
                    if name not in self._classes[kind]:
                        pending[(kind, name)] = EntryPoint(key, target, f"{module}.PLUGINS")

    def _pending_points(self) -> dict[tuple[PluginKind, str], EntryPoint]:
        if self._pending is None:
            self._pending = {}
            for point in self._entry_points_fn():
                kind_text, dot, name = point.name.partition(".")
                if not dot:
                    self._pending_bare[point.name] = point
                    continue
                try:
                    plugin_kind = PluginKind(kind_text)
                except ValueError:
                    _log.warning(
                        "ignoring entry point %r (%s): %r is not a plugin kind",
                        point.name,
                        point.value,
                        kind_text,
                    )
                    continue
                if name not in self._classes[plugin_kind]:
                    self._pending[(plugin_kind, name)] = point
        return self._pending

    def _load_point(self, point: EntryPoint, kind: PluginKind, name: str) -> type:
        cls = _load_class(point)
        self.add(kind, name, cls)
        return cls

    def _load_bare(self, point: EntryPoint) -> type:
        cls = _load_class(point)
        kind = getattr(cls, "kind", None)
        try:
            plugin_kind = PluginKind(kind.value if isinstance(kind, PluginKind) else kind)
        except ValueError:
            raise InvalidPluginError(
                f"entry point {point.name!r} ({point.value}) in group {ENTRY_POINT_GROUP!r}: "
                f"{_qualname(cls)} has no `kind` attribute naming a plugin kind; "
                f"name the entry point '<kind>.{point.name}' instead"
            ) from None
        self._pending_bare.pop(point.name, None)
        self.add(plugin_kind, point.name, cls)
        return cls


def validate_plugin_class(kind: PluginKind, name: str, cls: object) -> None:
    """Raise `InvalidPluginError` unless `cls` can serve as a `kind` plugin."""
    label = f"{kind.value} plugin {name!r}"
    if not isinstance(cls, type):
        raise InvalidPluginError(f"{label}: expected a class, got {cls!r}")
    label = f"{label} ({_qualname(cls)})"
    declared = getattr(cls, "kind", None)
    if isinstance(declared, PluginKind) and declared is not kind:
        raise InvalidPluginError(f"{label}: the class says it is a {declared.value} plugin")
    protocol = _PROTOCOLS[kind]
    for method, expected in _protocol_methods(protocol).items():
        attr = inspect.getattr_static(cls, method, None)
        if attr is None or not callable(getattr(cls, method, None)):
            raise InvalidPluginError(
                f"{label}: missing method {method}{expected} required by {protocol.__name__}"
            )
        if not _accepts(cls, method, attr, len(expected.parameters) - 1):
            raise InvalidPluginError(
                f"{label}: {method}{inspect.signature(getattr(cls, method))} does not match "
                f"{protocol.__name__}.{method}{expected}"
            )
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise InvalidPluginError(f"{label}: abstract method(s) not implemented: {missing}")


def _default_name(cls: type, name: str) -> None:
    if isinstance(getattr(cls, "name", None), str) and not getattr(cls, "name", ""):
        # Lets `describe()` report the registered name without repeating it.
        cls.name = name  # type: ignore[attr-defined]


def _protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    """Each method a protocol declares, with its signature (annotations as text)."""
    methods: dict[str, inspect.Signature] = {}
    for klass in reversed(protocol.__mro__):
        if not getattr(klass, "_is_protocol", False) or klass.__module__ == "typing":
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("_") or not inspect.isfunction(value):
                continue
            methods[attr] = inspect.signature(value)
    return methods


def _accepts(cls: type, method: str, attr: object, arity: int) -> bool:
    bound_self = 0 if isinstance(attr, staticmethod | classmethod) else 1
    try:
        signature = inspect.signature(getattr(cls, method))
    except (TypeError, ValueError):
        return True  # builtins without a signature: trust them
    try:
        signature.bind(*([None] * (arity + bound_self)))
    except TypeError:
        return False
    return True


def _load_class(point: EntryPoint) -> type:
    try:
        loaded: Any = point.load()
    except Exception as exc:
        raise InvalidPluginError(
            f"entry point {point.name!r} ({point.value}) in group {point.group!r} "
            f"failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(loaded, type):
        raise InvalidPluginError(
            f"entry point {point.name!r} ({point.value}) in group {point.group!r} "
            f"is not a class: {loaded!r}"
        )
    return loaded


def _register_kind(kind: PluginKind | str, name: str) -> PluginKind:
    try:
        return parse_kind(kind)
    except PluginNotFoundError as exc:
        raise InvalidPluginError(f"cannot register {name!r}: {exc}") from None


def _group_entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


_default = Registry(builtins=("dataflare.builtin", "dataflare.connectors"))


def register(kind: PluginKind | str, name: str) -> Callable[[C], C]:
    """Class decorator filing a native plugin under `kind` and `name` (validated now)."""
    return _default.register(kind, name)


def get(kind: PluginKind | str, name: str) -> type:
    """The native plugin class `kind`/`name`; `PluginNotFoundError` lists the alternatives."""
    return _default.get(kind, name)


def capturing() -> AbstractContextManager[dict[tuple[PluginKind, str], type]]:
    """Collect the registrations made in the block instead of filing them (plugin files)."""
    return _default.capturing()


def available(kind: PluginKind | str) -> list[str]:
    """Sorted names of the native plugins of `kind`."""
    return _default.available(kind)
