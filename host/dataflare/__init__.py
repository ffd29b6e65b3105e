"""DataFlare: a data-pipeline host for WebAssembly Component Model plugins.

Everything a user needs is importable from here::

    import dataflare

    stats = dataflare.run_pipeline("pipeline.yaml")          # or a dict
    plugin = dataflare.open_plugin("build/my_filter.wasm", config={"field": "a", "value": "1"})

    @dataflare.register("filter", "non_empty")
    class NonEmpty(dataflare.FilterBase):
        def filter(self, record: dataflare.Record) -> bool:
            return bool(record.value)

Public and private, one convention:

* The public API is `dataflare.__all__` (this module), plus two packages
  with an API of their own: `dataflare.conformance` (``dataflare check`` and
  its pytest plugin) and `dataflare.bindgen` (the binding generator).
* Every other module is implementation. It keeps an ``__all__`` of what its
  package uses, and tests may import it, but its name and contents may
  change in any release.
* A leading underscore makes a module private to the package that holds it:
  only modules of that package import it (`dataflare._wit`, the generated
  WIT bindings, is private to `dataflare`; `dataflare.pipeline._yaml` to
  `dataflare.pipeline`). So the generated WIT types, which share names with
  the host model (`Record`, `PluginKind`, ...), are never offered in its place.

Importing this package is cheap: errors and the model load now, the rest
(the runtime, wasmtime, the pipeline) on first use of a name that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dataflare.errors import (
    AdminRefused,
    BatchContractError,
    BindgenError,
    BuildFailedError,
    CallAborted,
    ComponentError,
    ComponentLoadError,
    ConfigFileError,
    ConfigurationError,
    ConformanceFailure,
    DataFlareError,
    GuestContractError,
    GuestTrap,
    InvalidPluginError,
    LimitExceeded,
    PipelineError,
    PluginError,
    PluginIoError,
    PluginNotFoundError,
    PluginStopped,
    ProcessingError,
    ProjectError,
    RecordTooLarge,
    SerializationError,
    StageFailed,
    ToolchainMissingError,
    WorldMismatchError,
)
from dataflare.lazy_classes import lazy_getattr
from dataflare.model import ParamInfo, PluginInfo, PluginKind, Record

if TYPE_CHECKING:
    from dataflare.pipeline import RunStats, run_pipeline
    from dataflare.plugins.base import (
        AggregateBase,
        FilterBase,
        NativePlugin,
        SinkBase,
        SourceBase,
        TransformBase,
    )
    from dataflare.plugins.registry import register
    from dataflare.plugins.resolve import open_plugin

    __version__: str

__all__ = [
    "AdminRefused",
    "AggregateBase",
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
    "FilterBase",
    "GuestContractError",
    "GuestTrap",
    "InvalidPluginError",
    "LimitExceeded",
    "NativePlugin",
    "ParamInfo",
    "PipelineError",
    "PluginError",
    "PluginInfo",
    "PluginIoError",
    "PluginKind",
    "PluginNotFoundError",
    "PluginStopped",
    "ProcessingError",
    "ProjectError",
    "Record",
    "RecordTooLarge",
    "RunStats",
    "SerializationError",
    "SinkBase",
    "SourceBase",
    "StageFailed",
    "ToolchainMissingError",
    "TransformBase",
    "WorldMismatchError",
    "__version__",
    "open_plugin",
    "register",
    "run_pipeline",
]

# Names that load their module on first use (module attribute `__getattr__`).
_LAZY = {
    "AggregateBase": "dataflare.plugins.base",
    "FilterBase": "dataflare.plugins.base",
    "NativePlugin": "dataflare.plugins.base",
    "SinkBase": "dataflare.plugins.base",
    "SourceBase": "dataflare.plugins.base",
    "TransformBase": "dataflare.plugins.base",
    "RunStats": "dataflare.pipeline",
    "run_pipeline": "dataflare.pipeline",
    "open_plugin": "dataflare.plugins.resolve",
    "register": "dataflare.plugins.registry",
}


_lazy = lazy_getattr(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("dataflare")
        globals()[name] = value
        return value
    return _lazy(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
