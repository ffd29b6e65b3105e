"""Lines of a binary stream, read in big chunks and cut into an Arrow column with numpy.

`ChunkedLines.take` gives the next non-blank lines as one binary column, the
way `readline` would have given them one by one: a line ends at ``\\n``, its
trailing ``\\r``s are not part of it, a line of only whitespace
(`bytes.strip`) is skipped but counted, and the last line may lack its
``\\n``, unless the stream may still grow (`ChunkedLines.final` false: a
followed file): then an unfinished last line waits in the buffer for its
``\\n``, and a later `take` reads on from there. Finding the line ends is
one numpy comparison per chunk, and a column's bytes are the window's bytes
with the line ends removed by one `bytes.replace`, so a line costs tens of
nanoseconds, not a Python object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pyarrow as pa

__all__ = ["CHUNK_BYTES", "ChunkedLines", "LineTooLong", "Lines"]

CHUNK_BYTES = 1 << 20
"""How much one read asks the stream for."""

_WHITESPACE = np.zeros(256, bool)
_WHITESPACE[list(b" \t\n\r\x0b\x0c")] = True  # what bytes.strip strips
_MAX_COLUMN = (1 << 31) - 1  # Arrow binary offsets are int32


class LineTooLong(Exception):
    """A line is longer than allowed; `line` is its 1-based number counted from the start."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} is too long")
        self.line = line


@dataclass(frozen=True, slots=True)
class Lines:
    """What one `take` gave."""

    values: pa.Array[Any]
    """The non-blank lines, without their ends."""
    numbers: np.ndarray[Any, np.dtype[np.int64]]
    """Each value's line number (1-based, from where counting started)."""
    lines: int
    """Lines consumed, blank ones included."""
    consumed: int
    """Bytes consumed."""


class ChunkedLines:
    """Reads `stream` in chunks of `chunk` bytes and hands out lines in batches."""

    def __init__(self, stream: IO[bytes], chunk: int = CHUNK_BYTES, *, final: bool = True) -> None:
        self._stream = stream
        self.final = final
        """Whether the stream's end is the input's end (false: it may still grow)."""
        self._chunk = chunk
        self._buf = b""
        self._pos = 0
        self._ends = np.empty(0, np.int64)  # positions in _buf of "\n" at or after _pos
        self._eof = False
        self._virtual_end = False  # _buf got a "\n" the input lacks, after its last line

    def take(self, max_values: int, max_line: int, first_line: int) -> Lines:
        """Up to `max_values` non-blank lines; fewer only at the end of the input.

        `first_line` is the number of the next line, for `numbers`. Raises
        `LineTooLong` for a line over `max_line` bytes (its ends not counted),
        and `OSError` from the stream.
        """
        parts: list[pa.Array[Any]] = []
        numbers: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        lines = consumed = got = 0
        while got < max_values:
            self._fill(max_values - got, max_line, first_line + lines)
            if len(self._ends) == 0:
                break
            window = self._window(max_values - got, max_line, first_line + lines)
            values, rows, used, size = window
            parts.append(values)
            numbers.append(rows + first_line + lines)
            got += len(values)
            lines += used
            consumed += size
        values = (
            pa.concat_arrays(parts)
            if len(parts) > 1
            else (parts[0] if parts else pa.array([], pa.binary()))
        )
        rows = np.concatenate(numbers) if numbers else np.empty(0, np.int64)
        return Lines(values, rows, lines, consumed)

    def _fill(self, want: int, max_line: int, next_line: int) -> None:
        """Read until `want` whole lines are buffered, or the input ends."""
        if self._eof or len(self._ends) >= want:
            return
        chunks = [self._buf[self._pos :]]
        size = len(chunks[0])
        ends = [self._ends - self._pos]
        have = len(self._ends)
        tail = int(ends[0][-1]) + 1 if have else 0  # where the unfinished line starts
        while have < want:
            if size - tail > max_line + 2:
                if have:
                    break  # the lines before it go first: one of them may be too long too
                raise LineTooLong(next_line)  # no end in sight: not read whole
            chunk = (
                self._stream.read1(self._chunk)
                if hasattr(self._stream, "read1")
                else (self._stream.read(self._chunk))
            )
            if not chunk:
                if not self.final:
                    break  # more may be appended: an unfinished line waits for its end
                self._eof = True
                if size > tail:
                    chunks.append(b"\n")  # the last line lacks its end
                    ends.append(np.array([size], np.int64))
                    self._virtual_end = True
                    size += 1
                break
            found = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10) + size
            if len(found):
                ends.append(found)
                have += len(found)
                tail = int(found[-1]) + 1
            chunks.append(chunk)
            size += len(chunk)
        self._buf = b"".join(chunks)
        self._pos = 0
        self._ends = np.concatenate(ends)

    def _window(
        self, want: int, max_line: int, next_line: int
    ) -> tuple[pa.Array[Any], np.ndarray[Any, np.dtype[np.int64]], int, int]:
        """Cut the buffered lines that hold the next `want` non-blank ones (or all)."""
        buf, pos = self._buf, self._pos
        data = np.frombuffer(buf, np.uint8)
        ends = self._ends[:want]  # blank lines among them: `take` asks again
        starts = np.empty(len(ends), np.int64)
        starts[0] = pos
        starts[1:] = ends[:-1] + 1
        stops = ends.copy()  # the content's end: trailing "\r"s are not content
        while True:
            cr = (stops > starts) & (data[np.maximum(stops - 1, 0)] == 13)
            if not cr.any():
                break
            stops[cr] -= 1
        lengths = stops - starts
        maybe_blank = np.flatnonzero(
            (lengths == 0) | _WHITESPACE[data[np.minimum(starts, len(buf) - 1)]]
        )
        blank = np.zeros(len(ends), bool)
        for row in maybe_blank.tolist():
            blank[row] = not buf[starts[row] : stops[row]].strip()
        count = np.cumsum(~blank)
        take = len(ends) if count[-1] <= want else int(np.searchsorted(count, want)) + 1
        # a column holds less than 2 GiB; a line that alone is longer cannot be a value
        sizes = np.cumsum(lengths[:take])
        if sizes[-1] > _MAX_COLUMN:
            take = max(int(np.searchsorted(sizes, _MAX_COLUMN, side="right")), 1)
        too_long = np.flatnonzero(lengths[:take] > min(max_line, _MAX_COLUMN))
        if len(too_long):
            raise LineTooLong(next_line + int(too_long[0]))
        end = int(ends[take - 1]) + 1
        region = buf[pos:end]
        removed = ends[:take] - stops[:take]  # "\r"s cut from each line
        if not removed.any():
            joined = region.replace(b"\n", b"")
        elif removed.max() == 1 and region.count(b"\r") == int(removed.sum()):
            joined = region.replace(b"\r\n", b"").replace(b"\n", b"")
        else:  # lines ending in several "\r"s, or "\r\n" inside a mix: rare
            joined = b"".join(buf[s:e] for s, e in zip(starts[:take], stops[:take], strict=True))
        offsets = np.zeros(take + 1, np.int32)
        np.cumsum(lengths[:take], out=offsets[1:])
        values = pa.BinaryArray.from_buffers(
            pa.binary(), take, [None, pa.py_buffer(offsets), pa.py_buffer(joined)]
        )
        rows = np.arange(take, dtype=np.int64)
        kept = ~blank[:take]
        if not kept.all():
            values = values.filter(pa.array(kept))
            rows = rows[kept]
        used = end - pos
        self._pos = end
        self._ends = self._ends[take:]
        if self._virtual_end and len(self._ends) == 0:
            used -= 1  # the "\n" added after the last line was never in the input
            self._virtual_end = False
        return values, rows, take, used
