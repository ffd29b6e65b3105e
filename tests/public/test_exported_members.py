"""`import dataflare` is the public API: its `__all__` is pinned, sorted and complete."""

from __future__ import annotations

import importlib.metadata
import inspect

import dataflare
import dataflare.errors

EXPECTED = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert dataflare.__all__ == EXPECTED
    assert sorted(dataflare.__all__) == dataflare.__all__


def test_every_exported_name_resolves_and_is_listed_by_dir() -> None:
    for name in dataflare.__all__:
        assert getattr(dataflare, name) is not None, name
    assert set(dataflare.__all__) <= set(dir(dataflare))


def test_every_error_is_exported_at_the_top() -> None:
    errors = {
        name
        for name, value in vars(dataflare.errors).items()
        if inspect.isclass(value) and issubclass(value, dataflare.DataFlareError)
    }
    assert errors <= set(dataflare.__all__)
    assert errors <= set(dataflare.errors.__all__)


def test_every_dataflare_error_class_lives_in_the_errors_module() -> None:
    # A subclass defined anywhere else would be an error the drawn tree misses.
    import pkgutil

    seen: list[str] = []
    for info in pkgutil.walk_packages(dataflare.__path__, "dataflare."):
        if info.name.endswith("__main__") or ".pytest_plugin" in info.name:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
                and issubclass(value, dataflare.DataFlareError)
            ):
                seen.append(f"{info.name}.{value.__name__}")
    assert all(name.startswith("dataflare.errors.") for name in seen), seen


def test_version_comes_from_the_package_metadata() -> None:
    assert dataflare.__version__ == importlib.metadata.version("dataflare")
