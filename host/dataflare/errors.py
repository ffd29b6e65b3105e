"""Every error DataFlare raises to its callers, in one tree.

::

    DataFlareError                      base of everything raised on purpose
    ├── ComponentError                  a .wasm file could not be used as a plugin
    │   ├── ComponentLoadError          missing, unreadable, corrupt, or a core module
    │   └── WorldMismatchError          wrong world, missing export, incompatible version
    ├── BindgenError                    WIT the generator cannot read or map
    ├── ProjectError                    a plugin project (dataflare.toml) or a `new`
    │                                   request is invalid
    ├── ToolchainMissingError           `dataflare build` needs a tool this machine
    │                                   lacks (the message says how to install it)
    ├── BuildFailedError                the project's build ran and failed
    ├── PluginNotFoundError             no native plugin of that kind and name
    ├── InvalidPluginError              a class or entry point cannot serve as the
    │                                   plugin it claims to be (checked when registered)
    ├── GuestTrap                       the guest trapped (panic, fuel, epoch, OOM);
    │   │                               the instance that trapped is discarded
    │   ├── LimitExceeded               a limit stopped the call (`.limit`, `.value`)
    │   └── CallAborted                 the run is aborting: the call was abandoned
    │                                   or never started
    ├── PluginError                     one record or call failed, the plugin lives on
    │   ├── ProcessingError             (the first four are WIT `plugin-error`)
    │   ├── ConfigurationError
    │   ├── PluginIoError
    │   ├── SerializationError
    │   └── RecordTooLarge              the host refused a record over a size limit
    ├── PipelineError                   a pipeline could not be built or run
    │   ├── AdminRefused                the admin API cannot listen where `--admin` asks
    │   ├── ConfigFileError             a YAML file is invalid (lists every problem)
    │   ├── StageFailed                 a stage failed and its `on_error` stops the run
    │   ├── PluginStopped               a plugin trapped on too many records in a row
    │   └── BatchContractError          a pooled call returned the wrong number of outcomes
    │       └── GuestContractError      a guest's batch answer breaks the WIT contract
    │                                   (offsets, bitmap, error indices, counts)
    └── ConformanceFailure              a `dataflare check` check failed (pytest plugin)

`PluginError` subclasses mirror the four cases of the WIT variant
`dataflare:plugin/types.plugin-error`; `PluginError.kind` gives the case
name, so a native plugin and a WASM plugin that fail the same way compare
equal by `(kind, message)`. `RecordTooLarge` has the kind ``limit``: the
plugin never saw the record (or its output was refused), so it is a
per-record outcome like the others, not a trap.

Exceptions outside this tree never reach a caller: each is a signal between
two host modules and is turned into one of these where it is caught
(`runtime.guestcall.CallAbandoned` into `LimitExceeded`,
`runtime.identify.WorldProblem` into `WorldMismatchError`,
`pipeline._yaml.YamlLoadError` into `ConfigFileError`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

__all__ = [
    "AdminRefused",
    "BatchContractError",
    "BindgenError",
    "BuildFailedError",
    "CallAborted",
    "ComponentError",
    "ComponentLoadError",
    "ConfigFileError",
    "ConfigurationError",
    "ConformanceFailure",
    "DataFlareError",
    "ErrorKind",
    "GuestContractError",
    "GuestTrap",
    "InvalidPluginError",
    "LimitExceeded",
    "PipelineError",
    "PluginError",
    "PluginIoError",
    "PluginNotFoundError",
    "PluginStopped",
    "ProcessingError",
    "ProjectError",
    "RecordTooLarge",
    "SerializationError",
    "StageFailed",
    "ToolchainMissingError",
    "WorldMismatchError",
    "plugin_error",
]

ErrorKind = Literal["processing", "configuration", "io", "serialization", "limit"]
"""`PluginError.kind`: the four WIT `plugin-error` cases, and ``limit`` (`RecordTooLarge`)."""


class DataFlareError(Exception):
    """Base class of every error DataFlare raises on purpose."""


class ProjectError(DataFlareError):
    """A plugin project, or what `dataflare new` was asked for, is invalid; says where."""


class ToolchainMissingError(DataFlareError):
    """A build needs a tool this machine lacks; the message is a one-line install hint."""


class BuildFailedError(DataFlareError):
    """A plugin project's build ran and failed; the message holds the tool's own output."""


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


class InvalidPluginError(DataFlareError):
    """A class or entry point cannot be used as a plugin of the kind it claims."""


class GuestTrap(DataFlareError):
    """The guest trapped; the instance that trapped is dead and was discarded."""


class LimitExceeded(GuestTrap):
    """A guest call was stopped by a limit; `limit` names it and `value` is its setting."""

    def __init__(self, message: str, *, limit: str, value: object) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


class CallAborted(GuestTrap):
    """A guest call abandoned, or not started, because the run is being aborted."""


class PluginError(DataFlareError):
    """One record or call failed and the plugin lives on (the WIT `plugin-error` variant)."""

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
    """A parameter is missing or invalid; `param` names it when one is to blame."""

    kind = "configuration"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class PluginIoError(PluginError):
    """Reading or writing outside the plugin failed."""

    kind = "io"


class SerializationError(PluginError):
    """The record could not be decoded or encoded."""

    kind = "serialization"


class RecordTooLarge(PluginError):
    """The host refused one record by a size limit; `limit` names it, `value` is its setting.

    Either the record was too big to send in one call (it never reached the
    plugin) or the plugin returned a record over `max_record_bytes`.
    """

    kind = "limit"

    def __init__(self, message: str, *, limit: str, value: object) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


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


class AdminRefused(PipelineError):
    """The admin API cannot listen where it was asked to (a usage error: the CLI exits 2)."""


class ConfigFileError(PipelineError):
    """A pipeline file is invalid; `problems` lists every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s):\n{lines}")


class StageFailed(PipelineError):
    """A stage failed and its policy (or the nature of the failure) stops the run."""

    def __init__(self, stage: str, kind: str, message: str, *, what: str = "failed") -> None:
        super().__init__(f"stage {stage!r} {what}: {kind}: {message}")
        self.stage = stage
        self.kind = kind
        self.message = message


class PluginStopped(PipelineError):
    """A stage's plugin trapped on every record tried; the run cannot go on with it."""

    def __init__(self, stage: str, traps: int, last: GuestTrap, *, limit: int) -> None:
        super().__init__(
            f"stage {stage!r} stopped: its plugin trapped on {traps} records in a row "
            f"(limit {limit} consecutive traps); last: {last}"
        )
        self.stage = stage
        self.last = last


class BatchContractError(PipelineError, ValueError):
    """A pooled member returned a different number of outcomes than the records it got.

    A `PipelineError`, so the executor stops the run with this message rather
    than wrapping it; worded like the executor's own check for one instance
    (the counts are those of the member's call, the batch the plugin saw).
    Also a `ValueError`, what `pooled_batch` raised before.
    """

    def __init__(self, records: int, outputs: int, stage: str | None = None) -> None:
        who = f"stage {stage!r}" if stage is not None else "a pooled plugin"
        super().__init__(
            f"{who} broke the batch contract: processing: returned {outputs} outcomes for a "
            f"batch of {records} records"
        )
        self.records = records
        self.outputs = outputs
        self.stage = stage


class GuestContractError(BatchContractError):
    """A WASM guest answered a batch call with data that breaks the WIT 0.2 contract.

    End offsets out of order or past the text, a bitmap of the wrong length,
    error indices out of range or unordered, a transform that returned a
    different number of records: the host cannot tell which record an answer
    belongs to, so it uses none of it. The message names the plugin and the
    broken rule; the run stops, as for any `BatchContractError`.
    """

    def __init__(self, plugin: str, problem: str, stage: str | None = None) -> None:
        who = f"plugin {plugin!r}" + (f" (stage {stage!r})" if stage is not None else "")
        PipelineError.__init__(self, f"{who} broke the batch contract: {problem}")
        self.records = -1
        self.outputs = -1
        self.stage = stage
        self.plugin = plugin
        self.problem = problem


class ConformanceFailure(DataFlareError):
    """A conformance check failed; the message holds its reason and smallest input."""
