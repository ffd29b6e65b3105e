"""The bundled demo: generated sample events through a WASM pipeline into SQLite."""

from dataflare.demo.dataset import ensure_events, generate_events

__all__ = ["ensure_events", "generate_events"]
