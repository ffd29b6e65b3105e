"""The host-side data model: records and plugin descriptions.

These mirror `dataflare:plugin/types` in `wit/types.wit`. Native plugins
receive and return them directly; the WASM adapters convert them to and
from the generated WIT bindings at the boundary.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ParamInfo", "PluginInfo", "PluginKind", "Record"]


class PluginKind(enum.Enum):
    """The five plugin kinds; each is one WIT world."""

    SOURCE = "source"
    SINK = "sink"
    FILTER = "filter"
    TRANSFORM = "transform"
    AGGREGATE = "aggregate"


@dataclass(frozen=True, slots=True)
class Record:
    """One record: an optional key, a value, an optional timestamp, metadata.

    `timestamp` is milliseconds since the Unix epoch and must fit in a signed
    64-bit integer. `metadata` is a string map; the WIT carries it as an
    ordered list of pairs, and insertion order is kept both ways.
    """

    value: bytes
    key: bytes | None = None
    timestamp: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """A parameter a plugin declares."""

    name: str
    description: str = ""
    required: bool = False
    default: str | None = None


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """What a plugin says about itself in `describe`."""

    name: str
    version: str
    kind: PluginKind
    description: str = ""
    params: tuple[ParamInfo, ...] = ()
