"""Every error DataFlare raises, in one tree.

::

    DataFlareError                      base of everything raised on purpose
    ├── ComponentError                  a .wasm file could not be used as a plugin
    │   ├── ComponentLoadError          missing, unreadable, corrupt, or a core module
    │   └── WorldMismatchError          wrong world, missing export, incompatible version
    ├── BindgenError                    WIT the generator cannot read or map
    ├── PluginNotFoundError             no native plugin of that kind and name
    ├── GuestTrap                       the guest trapped (panic, fuel, epoch, OOM);
    │                                   the instance that trapped is discarded
    ├── PluginError                     a plugin reported a failure (WIT `plugin-error`)
    │   ├── ProcessingError
    │   ├── ConfigurationError
    │   ├── PluginIoError
    │   └── SerializationError
    └── PipelineError                   a pipeline could not be built or run
        └── ConfigFileError             a YAML file is invalid (lists every problem)

`PluginError` subclasses mirror the four cases of the WIT variant
`dataflare:plugin/types.plugin-error`; `PluginError.kind` gives the case
name, so a native plugin and a WASM plugin that fail the same way compare
equal by `(kind, message)`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

__all__ = [
    "BindgenError",
    "ComponentError",
    "ComponentLoadError",
    "ConfigFileError",
    "ConfigurationError",
    "DataFlareError",
    "ErrorKind",
    "GuestTrap",
    "PipelineError",
    "PluginError",
    "PluginIoError",
    "PluginNotFoundError",
    "ProcessingError",
    "SerializationError",
    "WorldMismatchError",
    "plugin_error",
]

ErrorKind = Literal["processing", "configuration", "io", "serialization"]


class DataFlareError(Exception):
    """Base class of every error DataFlare raises on purpose."""


class ComponentError(DataFlareError):
    """A WebAssembly file could not be used as a DataFlare plugin."""


class ComponentLoadError(ComponentError):
    """The file is missing, unreadable, corrupt, or not a component."""


class WorldMismatchError(ComponentError):
    """The component does not target the expected world at a compatible version."""


class BindgenError(DataFlareError):
    """The binding generator met WIT it cannot read or map to Python."""


class PluginNotFoundError(DataFlareError):
    """No registered native plugin has the requested kind and name."""


class GuestTrap(DataFlareError):
    """The guest trapped; the instance that trapped is dead and was discarded."""


class PluginError(DataFlareError):
    """A failure a plugin reports on purpose (the WIT `plugin-error` variant)."""

    kind: ClassVar[ErrorKind]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PluginError):
            return NotImplemented
        return (self.kind, self.message) == (other.kind, other.message)

    def __hash__(self) -> int:
        return hash((self.kind, self.message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ProcessingError(PluginError):
    """The record was well formed but could not be processed."""

    kind = "processing"


class ConfigurationError(PluginError):
    """A parameter is missing or invalid."""

    kind = "configuration"


class PluginIoError(PluginError):
    """Reading or writing outside the plugin failed."""

    kind = "io"


class SerializationError(PluginError):
    """The record could not be decoded or encoded."""

    kind = "serialization"


_BY_KIND: dict[str, type[PluginError]] = {
    cls.kind: cls
    for cls in (ProcessingError, ConfigurationError, PluginIoError, SerializationError)
}


def plugin_error(kind: str, message: str) -> PluginError:
    """Build the `PluginError` subclass for a WIT `plugin-error` case name."""
    try:
        return _BY_KIND[kind](message)
    except KeyError:
        raise ValueError(f"unknown plugin-error kind {kind!r}") from None


class PipelineError(DataFlareError):
    """A pipeline could not be built or run."""


class ConfigFileError(PipelineError):
    """A pipeline file is invalid; `problems` lists every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s):\n{lines}")
