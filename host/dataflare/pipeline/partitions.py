"""Sources that split into partitions, which the Dask engine reads in parallel.

A partition is a map of parameters that replace some of the source's own
for one task: the ``jsonl`` source answers one map per file of its glob
(and per ``split_bytes`` line range of a big file), SQL sources one per key
range of ``partitions: N``. A source that answers fewer than two maps, or
has no `partitions` method, runs as one partition; `source_partitions`
says why, for the plan. A WASM source is split by giving it ``partition``
and ``partitions`` in its config map when its stage asks for several
(`WASM_PARTITIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from dataflare.pipeline.planner import SourceStage

__all__ = ["WASM_PARTITIONS", "PartitionedSource", "SourcePartitions", "source_partitions"]

WASM_PARTITIONS = "partitions"
"""The parameter of a WASM source stage that asks the Dask engine for that many partitions."""


@runtime_checkable
class PartitionedSource(Protocol):
    """A source that can say how to split itself."""

    def partitions(self) -> list[dict[str, str]]:
        """Parameters replacing the source's own, one map per partition, in reading order."""
        ...


@dataclass(slots=True)
class SourcePartitions:
    """How one source is split: the parameter overrides of each partition, and why."""

    stage: str
    parts: list[dict[str, str]] = field(default_factory=lambda: [{}])
    note: str = ""

    @property
    def split(self) -> bool:
        """Whether there is more than one partition."""
        return len(self.parts) > 1


def source_partitions(stage: SourceStage) -> SourcePartitions:
    """The partitions of `stage`'s configured source (one, with a note, if it cannot split)."""
    if stage.config.plugin.wasm_path is not None:
        text = stage.config.params.get(WASM_PARTITIONS, "")
        count = int(text) if text.isdigit() else 1
        if count > 1:
            parts = [{"partition": str(n), WASM_PARTITIONS: str(count)} for n in range(count)]
            return SourcePartitions(stage.id, parts, f"{count} partitions (WASM config map)")
        return SourcePartitions(
            stage.id, note="one partition: give the WASM source `partitions: N` to split it"
        )
    plugin = stage.plugin
    if not isinstance(plugin, PartitionedSource):
        return SourcePartitions(stage.id, note="one partition: this source cannot be split")
    parts = plugin.partitions()
    if len(parts) < 2:
        return SourcePartitions(
            stage.id, parts[:1] or [{}], "one partition: nothing to split it by"
        )
    return SourcePartitions(stage.id, parts, f"{len(parts)} partitions")
