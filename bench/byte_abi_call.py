"""The host side of the byte-pointer ABI anchor (`bench/byte_abi`, section (h)).

The old way of calling a plugin: the host frames a batch into one buffer,
copies it into the core module's linear memory with one `memmove`, calls
`filter_batch(ptr, len)` and reads one decision byte per record back. No
component, no typed values: the fastest a batch can cross, which is what WIT
0.2.0's columnar batches are measured against.
"""

from __future__ import annotations

import ctypes
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

import wasmtime
from dataflare.runtime.engine import get_engine

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "bench" / "byte_abi"
MODULE = ROOT / "build" / "bench" / "byte_abi.wasm"

KEEP, DROP, ERROR = 1, 0, 2
"""Decision bytes: keep, drop, and error (not JSON / not an object)."""

_U32 = struct.Struct("<I")


class BuildError(RuntimeError):
    """Building bench/byte_abi failed; the message is make's output, any install hint included."""


def build() -> Path:
    """Build the core module with make (a no-op when it is up to date) and return its path."""
    proc = subprocess.run(
        ["make", "-s", "-C", str(SOURCE)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BuildError((proc.stdout + proc.stderr).strip())
    return MODULE


def frame(values: Sequence[bytes]) -> bytes:
    """`u32 count`, then `u32 len + bytes` per value (little-endian)."""
    parts = [_U32.pack(len(values))]
    for v in values:
        parts.append(_U32.pack(len(v)))
        parts.append(v)
    return b"".join(parts)


class ByteAbiFilter:
    """One instance of the byte-ABI json_filter, configured with `field` and `value`."""

    def __init__(self, path: Path, field: str, value: str) -> None:
        engine = get_engine()  # the same code generation settings as the typed components
        self._store = wasmtime.Store(engine)
        instance = wasmtime.Instance(self._store, wasmtime.Module.from_file(engine, str(path)), [])
        exports = instance.exports(self._store)
        memory, alloc, configure, filter_batch = (
            exports["memory"], exports["alloc"], exports["configure"], exports["filter_batch"]
        )  # fmt: skip
        assert isinstance(memory, wasmtime.Memory)
        assert isinstance(alloc, wasmtime.Func)
        assert isinstance(configure, wasmtime.Func)
        assert isinstance(filter_batch, wasmtime.Func)
        self._memory, self._alloc, self._configure, self._filter = (
            memory, alloc, configure, filter_batch
        )  # fmt: skip
        self.configure(field, value)

    def configure(self, field: str, value: str) -> None:
        """Set (or reset) the field and the value to keep."""
        config = b"".join(_U32.pack(len(b)) + b for b in (field.encode(), value.encode()))
        ptr = self._write(config)
        if self._configure(self._store, ptr, len(config)) != 0:
            raise ValueError(f"byte_abi refused the configuration {field!r}={value!r}")

    def _base(self) -> int:
        # Re-read on every call: `alloc` may grow memory, which can move it.
        return ctypes.addressof(self._memory.data_ptr(self._store).contents)

    def _write(self, data: bytes) -> int:
        """Copy `data` into a fresh `alloc` buffer with one memmove; return its guest pointer."""
        ptr: int = self._alloc(self._store, len(data)) & 0xFFFFFFFF
        ctypes.memmove(self._base() + ptr, data, len(data))
        return ptr

    def decide(self, values: Sequence[bytes]) -> bytes:
        """One decision byte per value (`KEEP`, `DROP`, `ERROR`), in order."""
        data = frame(values)
        ptr = self._write(data)
        out: int = self._filter(self._store, ptr, len(data)) & 0xFFFFFFFF
        if out == 0:
            raise ValueError("byte_abi rejected the batch frame")
        base = self._base()
        (count,) = _U32.unpack(ctypes.string_at(base + out, 4))
        assert count == len(values), (count, len(values))
        return ctypes.string_at(base + out + 4, count)
