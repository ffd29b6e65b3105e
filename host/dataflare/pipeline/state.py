"""Source positions and file-sink sizes saved between runs, so a rerun continues exactly.

The file (``state`` in the pipeline, by default
``.dataflare/<pipeline file stem>.state.json`` next to the pipeline file) is
JSON::

    {"version": 2,
     "sources": {"<stage id>": {"plugin": "native:postgres", "position": "<base64>"}},
     "sinks": {"<stage id>": {"plugin": "native:jsonl", "size": 1234}}}

Positions are whatever the source's `checkpoint` returned; an empty one
(a source that cannot resume, such as a file read whole) is not stored.
Sizes are the bytes a file sink (`checkpoints.ResumableFileSink`) had made
durable when the positions beside them were saved. A saved entry is ignored
when the stage now runs a different plugin. Version 1 files (positions
only) are still read: they have no sizes. The file is replaced atomically,
so a crash leaves the old or the new state; a failure to write it is a
`PipelineError` naming the file, and the old state stays as it was.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dataflare.errors import PipelineError

__all__ = ["SavedState", "StateFile"]

_VERSION = 2
_READABLE = (1, 2)


@dataclass(frozen=True)
class SavedState:
    """What a state file holds: positions by source, committed sizes by file sink."""

    sources: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Stage id -> (plugin label, position)."""
    sinks: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Stage id -> (plugin label, committed size in bytes)."""
    version: int = _VERSION
    """The file's format version (1 files have no sink sizes)."""

    def position(self, stage: str, plugin: str) -> bytes:
        """The saved position of `stage` if it ran the same `plugin`, else empty."""
        saved = self.sources.get(stage)
        return saved[1] if saved is not None and saved[0] == plugin else b""

    def size(self, stage: str, plugin: str) -> int | None:
        """The committed size of sink `stage` if it ran the same `plugin`, else None."""
        saved = self.sinks.get(stage)
        return saved[1] if saved is not None and saved[0] == plugin else None


class StateFile:
    """Reads and writes the saved positions of a pipeline's sources and sizes of its sinks."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> SavedState:
        """The saved state; empty when there is no file yet."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return SavedState()
        except (OSError, ValueError, RecursionError) as exc:
            raise PipelineError(f"cannot read the checkpoint file {self.path}: {exc}") from exc
        try:
            version = data.get("version")
            if version not in _READABLE:
                raise ValueError(f"unsupported version {version!r}")
            sources = {
                stage: (entry["plugin"], base64.b64decode(entry["position"], validate=True))
                for stage, entry in data["sources"].items()
            }
            sinks: dict[str, tuple[str, int]] = {}
            for stage, entry in data.get("sinks", {}).items():
                size = entry["size"]
                if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                    raise ValueError(f"sink {stage!r}: size {size!r} is not a byte count")
                sinks[stage] = (str(entry["plugin"]), size)
            return SavedState(sources, sinks, version)
        except (AttributeError, KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise PipelineError(
                f"the checkpoint file {self.path} is damaged ({exc}); delete it to start over"
            ) from exc

    def check_writable(self) -> None:
        """Fail now, naming the file, if its directory cannot take a new state file.

        Called before anything is written, so a read-only directory stops the
        run before any sink holds records the state file could not account for.
        """
        self._replace_with(None)

    def save(
        self,
        positions: dict[str, tuple[str, bytes]],
        sinks: dict[str, tuple[str, int]] | None = None,
    ) -> None:
        """Store the non-empty positions and the sink sizes, replacing the file atomically."""
        sources = {
            stage: {"plugin": plugin, "position": base64.b64encode(pos).decode("ascii")}
            for stage, (plugin, pos) in positions.items()
            if pos
        }
        sizes = {
            stage: {"plugin": plugin, "size": size}
            for stage, (plugin, size) in (sinks or {}).items()
        }
        data = {"version": _VERSION, "sources": sources, "sinks": sizes}
        self._replace_with(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def _replace_with(self, text: str | None) -> None:
        """Write `text` to a temporary file and move it over the state file (None: only try)."""
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                if text is not None:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            if text is not None:
                os.replace(tmp, self.path)
                tmp = None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise PipelineError(
                f"cannot write the checkpoint file {self.path}: {reason} (it was left as it "
                "was: a rerun continues from the last checkpoint saved)"
            ) from exc
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
