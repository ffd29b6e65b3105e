"""Plugins: kind protocols, base classes for native authors, the registry, WASM adapters."""
