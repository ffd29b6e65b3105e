"""Loading, sandboxing and running WebAssembly plugin components."""

from dataflare.runtime.cache import CacheStats, CompileCache, cache_dir, default_cache
from dataflare.runtime.engine import EngineConfig, fingerprint, get_engine
from dataflare.runtime.loader import LoadedComponent, load_component

__all__ = [
    "CacheStats",
    "CompileCache",
    "EngineConfig",
    "LoadedComponent",
    "cache_dir",
    "default_cache",
    "fingerprint",
    "get_engine",
    "load_component",
]
