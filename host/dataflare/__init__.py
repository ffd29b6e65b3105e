"""DataFlare: a data-pipeline host for WebAssembly Component Model plugins."""

from dataflare.errors import (
    ConfigurationError,
    DataFlareError,
    GuestTrap,
    PluginError,
    PluginIoError,
    ProcessingError,
    SerializationError,
)
from dataflare.model import ParamInfo, PluginInfo, PluginKind, Record

__all__ = [
    "ConfigurationError",
    "DataFlareError",
    "GuestTrap",
    "ParamInfo",
    "PluginError",
    "PluginInfo",
    "PluginIoError",
    "PluginKind",
    "ProcessingError",
    "Record",
    "SerializationError",
]
