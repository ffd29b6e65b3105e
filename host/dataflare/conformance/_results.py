"""What a conformance run produces: one `CheckResult` per check, in a `Report`.

Reports are plain data so the text table, the JSON document
(`docs/conformance-schema.json`) and the pytest plugin all read the same thing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CHECK_NAMES",
    "DEFAULT_EXAMPLES",
    "SCHEMA_VERSION",
    "Budget",
    "CheckResult",
    "Report",
    "Status",
]

SCHEMA_VERSION = 2
"""Bumped whenever the JSON report changes incompatibly."""

DEFAULT_EXAMPLES = 50
"""Generated examples per property check unless told otherwise."""

CHECK_NAMES = (
    "world",
    "imports",
    "describe",
    "configure",
    "resource-budget",
    "no-trap",
    "determinism",
    "batch-output",
    "batch",
    "aggregate-fold",
    "merge",
    "source-read",
    "lifecycle",
)
"""Every check, in the order they run and are reported."""


@dataclass(frozen=True, slots=True)
class Budget:
    """The stated resource budget of one guest call.

    Fuel (roughly one unit per wasm instruction) is `fuel_base` plus
    `fuel_per_byte` for every byte of records passed in, so a 1 MiB record
    may cost more than an empty one but an endless loop is caught in about a
    tenth of a second. `memory_bytes` caps each linear memory; `timeout` is a
    wall-clock backstop per call.
    """

    memory_bytes: int = 256 << 20
    fuel_base: int = 100_000_000
    fuel_per_byte: int = 10_000
    timeout: float = 30.0

    def fuel_for(self, size: int) -> int:
        """The fuel a call carrying `size` bytes of records may use."""
        return self.fuel_base + self.fuel_per_byte * size

    def to_json(self) -> dict[str, Any]:
        """The budget as JSON-ready numbers."""
        return {
            "memory_bytes": self.memory_bytes,
            "fuel_base": self.fuel_base,
            "fuel_per_byte": self.fuel_per_byte,
            "timeout_seconds": self.timeout,
        }


class Status(enum.Enum):
    """How one check ended. Only `FAIL` makes the run fail."""

    PASS = "pass"
    WARN = "warn"
    """Conforms, but something deserves the author's attention."""
    FAIL = "fail"
    SKIP = "skip"
    """Not applicable to this world, or an earlier failure makes it meaningless."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check.

    `detail` is one human sentence. `input` is the smallest input that shows
    a failure (rendered for people), `metrics` holds numbers the check
    measured (fuel, bytes), `notes` any extra lines.
    """

    name: str
    status: Status
    detail: str
    input: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """True when this check makes the run fail."""
        return self.status is Status.FAIL

    def to_json(self) -> dict[str, Any]:
        """This result as a JSON-ready dict (see docs/conformance-schema.json)."""
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "input": self.input,
            "metrics": dict(self.metrics),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Every check's result for one component, plus what the run was given."""

    plugin: str
    kind: str | None
    version: str | None
    world_version: str | None
    """The version of the host's world the checks went through (0.1.0 or 0.2.0)."""
    seed: int
    examples: int
    params: dict[str, str]
    budget: dict[str, Any]
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """True when no check failed (warnings and skips do not fail a run)."""
        return not any(check.failed for check in self.checks)

    def check(self, name: str) -> CheckResult:
        """The result of check `name` (KeyError if it did not run)."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    @property
    def failures(self) -> tuple[str, ...]:
        """Names of the failed checks, in report order."""
        return tuple(check.name for check in self.checks if check.failed)

    def to_json(self) -> dict[str, Any]:
        """The whole report as a JSON-ready dict (see docs/conformance-schema.json)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "plugin": self.plugin,
            "kind": self.kind,
            "version": self.version,
            "world_version": self.world_version,
            "passed": self.passed,
            "seed": self.seed,
            "examples": self.examples,
            "params": dict(self.params),
            "budget": dict(self.budget),
            "checks": [check.to_json() for check in self.checks],
        }
