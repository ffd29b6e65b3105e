"""Per-stage resource limits of WASM plugins, with the defaults a pipeline gets.

In a pipeline file::

    limits:
      memory_mb: 256              # linear memory cap per instance
      timeout_ms_per_batch: 30000 # wall clock per guest call (a batch is one call)
      fuel_per_record: 10000000000 # fuel per record (~1 s of guest work); a batch gets
                                  # fuel_per_record * len(batch); null turns fuel off
      max_record_bytes: 16777216  # key + value + metadata of a record a plugin returns

Every WASM stage is limited even when it says nothing: the defaults above
are meant to stop runaway plugins without getting in the way of sane ones.
Fuel and epochs make guest code roughly 1.4x slower (TOOLCHAIN.md); a stage
that must go faster can say ``fuel_per_record: null`` and keep the timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataflare.model import Record
from dataflare.runtime.engine import SANDBOX_CONFIG, EngineConfig
from dataflare.runtime.limits import Limits

__all__ = [
    "DEFAULT_LIMITS",
    "LIMIT_KEYS",
    "StageLimits",
    "record_bytes",
]

LIMIT_KEYS = ("memory_mb", "timeout_ms_per_batch", "fuel_per_record", "max_record_bytes")


@dataclass(frozen=True, slots=True)
class StageLimits:
    """The `limits` of one stage; see the module docstring for the meaning."""

    memory_mb: int = 256
    timeout_ms_per_batch: int = 30_000
    fuel_per_record: int | None = 10_000_000_000
    max_record_bytes: int = 16 << 20

    def runtime_limits(self) -> Limits:
        """The runtime's per-instance limits (fuel per call = one record's worth)."""
        return Limits(
            memory_bytes=self.memory_mb << 20,
            fuel_per_call=self.fuel_per_record,
            timeout=self.timeout_ms_per_batch / 1000,
        )

    def engine_config(self) -> EngineConfig:
        """The engine that can enforce these limits.

        With fuel on (the default) it is `SANDBOX_CONFIG`, the one `inspect`,
        `test` and `check` compile for, so their cache entry serves the run.
        """
        if self.fuel_per_record is None:
            return EngineConfig(fuel=False, epoch=True)
        return SANDBOX_CONFIG

    def batch_fuel(self, records: int) -> int | None:
        """The fuel of one call handling `records` records (None: fuel is off)."""
        if self.fuel_per_record is None:
            return None
        return self.fuel_per_record * max(records, 1)

    def oversized(self, record: Record) -> str | None:
        """Why `record` breaks `max_record_bytes`, or None when it does not."""
        size = record_bytes(record)
        if size <= self.max_record_bytes:
            return None
        return f"record of {size} bytes exceeds limit max_record_bytes={self.max_record_bytes}"


DEFAULT_LIMITS = StageLimits()


def record_bytes(record: Record) -> int:
    """Bytes a record carries: key, value and every metadata name and value (UTF-8)."""
    size = len(record.value) + (len(record.key) if record.key is not None else 0)
    for name, value in record.metadata.items():
        size += len(name.encode("utf-8", "surrogatepass")) + len(
            value.encode("utf-8", "surrogatepass")
        )
    return size
