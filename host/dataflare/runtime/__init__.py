"""Loading, sandboxing and running WebAssembly plugin components.

`load_component` compiles (through the on-disk cache) and checks a `.wasm`
file; `PluginInstance` / `open_instance` run it in the sandbox, one call at
a time, replacing the instance after a trap.
"""

from dataflare.runtime.cache import CacheStats, CompileCache, cache_dir, default_cache
from dataflare.runtime.engine import EngineConfig, fingerprint, get_engine
from dataflare.runtime.instance import PluginInstance, RawExports, WorldFactory, open_instance
from dataflare.runtime.limits import Limits
from dataflare.runtime.loader import LoadedComponent, load_component

__all__ = [
    "CacheStats",
    "CompileCache",
    "EngineConfig",
    "Limits",
    "LoadedComponent",
    "PluginInstance",
    "RawExports",
    "WorldFactory",
    "cache_dir",
    "default_cache",
    "fingerprint",
    "get_engine",
    "load_component",
    "open_instance",
]
