"""Source positions saved between runs, so a rerun starts after the last record seen.

The file (``state`` in the pipeline, by default
``.dataflare/<pipeline file stem>.state.json`` next to the pipeline file) is
JSON::

    {"version": 1, "sources": {"<stage id>": {"plugin": "native:postgres",
                                              "position": "<base64>"}}}

Positions are whatever the source's `checkpoint` returned; an empty one
(a source that cannot resume, such as a file read whole) is not stored. A
saved position is ignored when the stage now runs a different plugin. The
file is replaced atomically, so a crash leaves the old or the new state.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from pathlib import Path

from dataflare.errors import PipelineError

__all__ = ["StateFile"]

_VERSION = 1


class StateFile:
    """Reads and writes the saved positions of a pipeline's sources."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, tuple[str, bytes]]:
        """Stage id -> (plugin label, position); empty when there is no file yet."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError) as exc:
            raise PipelineError(f"cannot read the checkpoint file {self.path}: {exc}") from exc
        try:
            if data.get("version") != _VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            return {
                stage: (entry["plugin"], base64.b64decode(entry["position"], validate=True))
                for stage, entry in data["sources"].items()
            }
        except (AttributeError, KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise PipelineError(
                f"the checkpoint file {self.path} is damaged ({exc}); delete it to start over"
            ) from exc

    def position(self, stage: str, plugin: str) -> bytes:
        """The saved position of `stage` if it ran the same `plugin`, else empty."""
        saved = self.load().get(stage)
        if saved is None or saved[0] != plugin:
            return b""
        return saved[1]

    def save(self, positions: dict[str, tuple[str, bytes]]) -> None:
        """Store the non-empty positions, replacing the file atomically."""
        sources = {
            stage: {"plugin": plugin, "position": base64.b64encode(pos).decode("ascii")}
            for stage, (plugin, pos) in positions.items()
            if pos
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": _VERSION, "sources": sources}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
