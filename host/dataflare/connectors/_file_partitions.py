"""How a file source splits for the Dask engine: one partition per file, big files by bytes.

A partition is a map of parameters that replace the source's own (see
`dataflare.pipeline.partitions`). A glob gives one partition per match, in
name order; with ``split_bytes`` a file bigger than that is cut into ranges
of about that many bytes, each starting right after a newline, so every
line belongs to exactly one range. `RangeFile` reads one range as if it were
the whole file, while offsets (and so saved positions) stay the file's own.
"""

from __future__ import annotations

import glob
import io
import itertools
import os
import re

from dataflare.connectors._file_series import FileSeries
from dataflare.errors import ConfigurationError

__all__ = ["RangeFile", "file_partitions", "line_ranges", "parse_byte_range", "parse_split_bytes"]

_RANGE = re.compile(r"([0-9]{1,20})-([0-9]{1,20})(?::([0-9]{1,20}))?")
_DIGITS = re.compile(r"[0-9]{1,20}")


def parse_split_bytes(plugin: str, text: str) -> int:
    """``split_bytes`` as an int (0: do not split); raises `ConfigurationError`."""
    if not _DIGITS.fullmatch(text):
        raise ConfigurationError(
            f"plugin {plugin!r}: split_bytes must be a whole number of bytes; got {text!r}",
            param="split_bytes",
        )
    return int(text)


def parse_byte_range(plugin: str, text: str) -> tuple[int, int, int] | None:
    """``byte_range`` (``START-END[:LINES]``, END excluded) as (start, end, lines before start).

    None when empty. LINES numbers the range's lines as the file does, for
    messages (``file:line``) and positions; without it they count from 1.
    """
    if not text:
        return None
    found = _RANGE.fullmatch(text)
    if found is None or int(found[1]) > int(found[2]):
        raise ConfigurationError(
            f"plugin {plugin!r}: byte_range must be START-END[:LINES] with START <= END; "
            f"got {text!r}",
            param="byte_range",
        )
    return int(found[1]), int(found[2]), int(found[3] or 0)


def line_ranges(path: str, split_bytes: int) -> list[tuple[int, int, int]]:
    """`path` cut into ranges of about `split_bytes`, each starting after a newline.

    Each range is (start, end, lines before start). Counting those lines
    reads the file once, in big chunks (about 1 GB/s): the one pass over
    the data the coordinator makes.
    """
    size = os.path.getsize(path)
    if split_bytes <= 0 or size <= split_bytes:
        return [(0, size, 0)]
    starts = [0]
    with open(path, "rb") as file:
        target = split_bytes
        while target < size:
            file.seek(target - 1)
            file.readline()  # to the end of the line the cut falls in (or just after it)
            start = file.tell()
            if start >= size:
                break
            if start > starts[-1]:
                starts.append(start)
            target = start + split_bytes
        before = [0]
        for previous, start in itertools.pairwise(starts):
            before.append(before[-1] + _newlines(file, previous, start))
    ends = [*starts[1:], size]
    return list(zip(starts, ends, before, strict=True))


def _newlines(file: io.BufferedReader, start: int, end: int) -> int:
    """Newlines in bytes `start` to `end` of `file`."""
    count, chunk = 0, 1 << 20
    for at in range(start, end, chunk):
        count += os.pread(file.fileno(), min(chunk, end - at), at).count(b"\n")
    return count


def file_partitions(pattern: str, split_bytes: int, *, ranges: bool) -> list[dict[str, str]]:
    """One parameter map per partition of the files `pattern` matches, in read order.

    Each names one file (its name escaped, so it matches only itself); with
    `ranges`, a file bigger than `split_bytes` gives one map per line range.
    """
    parts: list[dict[str, str]] = []
    for path in FileSeries(pattern, follow=False).matches():
        cuts = line_ranges(path, split_bytes) if ranges else [(0, 0, 0)]
        for start, end, lines in cuts:
            part = {"path": glob.escape(path)}
            if len(cuts) > 1:
                part["byte_range"] = f"{start}-{end}:{lines}"
            parts.append(part)
    return parts


class _RangeRaw(io.RawIOBase):
    """Bytes `start` to `end` of an open file; offsets are the file's own."""

    def __init__(self, file: io.BufferedReader, start: int, end: int) -> None:
        super().__init__()
        self._file = file
        self._end = end
        self._pos = start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._file.fileno()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), max(0, self._end - self._pos))
        if not wanted:
            return 0
        data = os.pread(self._file.fileno(), wanted, self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            self._pos = offset
        elif whence == os.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self._end + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


class RangeFile(io.BufferedReader):
    """An open file read only from `start` up to `end`: beyond is its end of file."""

    def __init__(self, file: io.BufferedReader, start: int, end: int) -> None:
        super().__init__(_RangeRaw(file, start, end))
