"""Native plugins for the hot-plug tests: versions that say which one processed a record.

The swap machinery is the same for native and WASM plugins; tests hand the
executor a loader (`loader`) that opens these by the file name it is given
(``tag-v2.plug`` is `Tagger` version 2), where a WASM stage compiles a component.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from dataflare.errors import GuestTrap, LimitExceeded
from dataflare.model import ParamInfo, Record
from dataflare.pipeline.config import StageConfig
from dataflare.plugins.base import AggregateBase, FilterBase, TransformBase
from dataflare.plugins.kinds import Plugin
from dataflare.plugins.registry import register

VERSION_KEY = "version"


@register("transform", "test_tagger")
class Tagger(TransformBase):
    """Tags each record's metadata with its version (`VERSION_KEY`)."""

    name = "tagger"
    params = (ParamInfo("note", default=""),)

    def __init__(self, version: str = "1.0.0") -> None:
        self.version = version  # type: ignore[misc]
        self.closed = False

    def transform(self, record: Record) -> Record:
        return Record(
            value=record.value,
            key=record.key,
            metadata={**record.metadata, VERSION_KEY: self.version},
        )

    def close(self) -> None:
        self.closed = True


@register("transform", "test_limited")
class Limited(TransformBase):
    """Fails each record whose n is a multiple of 7 on a limit, like a guest out of fuel."""

    def transform(self, record: Record) -> Record:
        return record

    def transform_batch(self, records: Sequence[Record]) -> list[Record | LimitExceeded]:  # type: ignore[override]
        return [
            LimitExceeded("ran out of fuel", limit="fuel", value=1000)
            if json.loads(r.value)["n"] % 7 == 0
            else r
            for r in records
        ]


class TrapsInConfigure(Tagger):
    """A version whose configure traps."""

    def configure(self, config: object) -> None:  # type: ignore[override]
        raise GuestTrap("wasm trap: unreachable (in configure)")


class TrapsOnEveryBatch(Tagger):
    """A version that configures fine but traps on the probe."""

    def transform_batch(self, records: Sequence[Record]) -> list[Record]:  # type: ignore[override]
        raise GuestTrap("wasm trap: unreachable")


class Keep(FilterBase):
    """A filter: the wrong kind for a transform stage."""

    name = "keep"

    def filter(self, record: Record) -> bool:
        return True


@register("aggregate", "test_summer")
class Summer(AggregateBase):
    """Sums `n`; the accumulator is JSON {"sum": s}. Emits {"sum": s, "by": version}."""

    name = "summer"

    def __init__(self, version: str = "1.0.0", name: str = "summer") -> None:
        self.version = version  # type: ignore[misc]
        self.name = name  # type: ignore[misc]

    def init(self) -> bytes:
        return b'{"sum": 0}'

    def aggregate(self, acc: bytes, record: Record) -> bytes:
        total = json.loads(acc)["sum"] + json.loads(record.value)["n"]
        return json.dumps({"sum": total}).encode()

    def emit(self, acc: bytes) -> list[Record]:
        doc = {"sum": json.loads(acc)["sum"], "by": self.version}
        return [Record(value=json.dumps(doc).encode())]


def loader(cfg: StageConfig, path: Path) -> Plugin:
    """The plugin a test 'file' names: ``<what>-<version>.plug``."""
    what, _, version = path.stem.partition("-")
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    match what:
        case "tag":
            return Tagger(version)
        case "trapconf":
            return TrapsInConfigure(version)
        case "trapprobe":
            return TrapsOnEveryBatch(version)
        case "keep":
            return Keep()
        case "sum":
            return Summer(version)
        case "other":
            return Summer(version, name="other")
    raise AssertionError(f"unknown test plugin {path}")
