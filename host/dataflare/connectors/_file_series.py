"""Which file a file source reads next: one path or a glob's matches, followed or not.

A ``path`` is either one file or a glob (``in-*.jsonl``, any of ``*?[``),
whose matches are read one after the other in name order. `FileSeries.after`
says which file comes once the current one is read to its end:

* a glob: the first match that sorts after it (with ``follow``, files that
  appear later are found too, as long as they sort after it);
* one followed path: the file now at that path, when it is another file
  than the one being read (another identity: the old one was renamed away,
  "rotated"); the source reads the old file to its end first;
* otherwise none.

A file is known by its identity (`FileId`: st_dev, st_ino), not its name, so
a saved position (`FilePosition`) finds its file again after a rotation
while the pipeline was stopped (`FileSeries.find` looks among the matches,
then in the path's folder). An inode number is reused once its file is
deleted, so the position also keeps a digest of the file's first bytes
(`head_digest`, up to `HEAD_BYTES` of what was read): a new file that got
the old one's inode is not taken for it.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
from dataclasses import dataclass

from dataflare.errors import ProcessingError

__all__ = ["HEAD_BYTES", "FileId", "FilePosition", "FileSeries", "head_digest", "is_glob"]

HEAD_BYTES = 64
"""How many of a file's first bytes tell it from a later file with the same inode."""


def head_digest(fd: int, size: int) -> str:
    """A digest of the first `size` bytes (at most `HEAD_BYTES`) of the open file `fd`."""
    size = min(size, HEAD_BYTES)
    return f"{size}:{hashlib.blake2b(os.pread(fd, size, 0), digest_size=8).hexdigest()}"


def _head_of(path: str, digest: str) -> bool:
    """Whether the file at `path` starts with the bytes `digest` was made of."""
    size = int(digest.partition(":")[0])
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return head_digest(fd, size) == digest
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class FileId:
    """A file's identity: the same file whatever it is named now."""

    dev: int
    ino: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileId:
        """The identity of the file `status` describes."""
        return cls(status.st_dev, status.st_ino)


@dataclass(frozen=True, slots=True)
class FilePosition:
    """Where a file source stands: the file (name and identity), the byte offset and line.

    `path` None is a position from before files were named in it (only an
    offset into the one file), or of a source that opened no file yet.
    """

    path: str | None
    file: FileId | None
    offset: int
    line: int
    head: str | None = None
    """`head_digest` of the file's first bytes (up to `offset`)."""

    def encode(self) -> bytes:
        """The position as the checkpoint's JSON."""
        doc: dict[str, object] = {"offset": self.offset, "line": self.line}
        if self.path is not None:
            doc["path"] = self.path
        if self.file is not None:
            doc["dev"], doc["ino"] = self.file.dev, self.file.ino
        if self.head is not None:
            doc["head"] = self.head
        return json.dumps(doc).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes, plugin: str) -> FilePosition:
        """A position from `encode` (or the older ``{"offset", "line"}``)."""
        try:
            doc = json.loads(data)
            path = doc.get("path")
            file = FileId(int(doc["dev"]), int(doc["ino"])) if "ino" in doc else None
            offset, line = int(doc["offset"]), int(doc["line"])
            head = doc.get("head")
            if head is not None:
                int(head.partition(":")[0])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProcessingError(f"plugin {plugin!r}: unreadable position {data[:80]!r}") from exc
        if not isinstance(path, str | None) or not isinstance(head, str | None):
            raise ProcessingError(f"plugin {plugin!r}: unreadable position {data[:80]!r}")
        return cls(path, file, offset, line, head)


def is_glob(path: str) -> bool:
    """Whether `path` is a pattern (holds ``*``, ``?`` or ``[``) rather than one file."""
    return glob.has_magic(path)


class FileSeries:
    """The files `pattern` names, in reading order; `follow` watches for new ones."""

    def __init__(self, pattern: str, *, follow: bool) -> None:
        self.pattern = pattern
        self.follow = follow
        self.glob = is_glob(pattern)

    def matches(self) -> list[str]:
        """The files the pattern names now, in name order (for a plain path: it, if it exists)."""
        if not self.glob:
            return [self.pattern] if os.path.isfile(self.pattern) else []
        return sorted(p for p in glob.glob(self.pattern) if os.path.isfile(p))

    def first(self) -> str | None:
        """The first file to read; None when there is none (yet)."""
        found = self.matches()
        return found[0] if found else None

    def after(self, path: str, current: FileId | None) -> str | None:
        """The file to read once `path` (identity `current`) is read to its end; None: none yet."""
        if self.glob:
            later = [p for p in self.matches() if p > path]
            return later[0] if later else None
        if not self.follow:
            return None
        try:
            now = FileId.of(os.stat(self.pattern))
        except FileNotFoundError:
            return None  # between the rename and the new file's creation
        return self.pattern if now != current else None

    def find(self, saved: FilePosition) -> str | None:
        """Where the file of `saved` is now (by identity); None when it is gone.

        A position without an identity is found by its name alone.
        """
        if saved.path is None:
            return None
        if saved.file is None:
            return saved.path if os.path.isfile(saved.path) else None
        candidates = [saved.path, *self.matches()]
        if not self.glob:
            # rotated while stopped: renamed beside the path, e.g. in.jsonl.1
            folder = os.path.dirname(os.path.abspath(self.pattern))
            with contextlib.suppress(OSError):
                candidates += sorted(e.path for e in os.scandir(folder) if e.is_file())
        for candidate in candidates:
            try:
                same = FileId.of(os.stat(candidate)) == saved.file
            except OSError:
                continue
            if same and (saved.head is None or _head_of(candidate, saved.head)):
                return candidate
        return None

    def after_gone(self, saved: FilePosition) -> str | None:
        """The file to read when the file of `saved` is gone: the next by name, or the path."""
        if not self.glob:
            return self.first()
        later = [p for p in self.matches() if saved.path is None or p > saved.path]
        return later[0] if later else None
