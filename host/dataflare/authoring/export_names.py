"""Renaming a component's top-level exports in its binary, leaving everything else as it is.

componentize-py 0.25.1 cannot build a world that exports a function named
like a C library function (`read`, `write`, `close`, ...): its linker
finds the name twice, once in libc, and panics ("duplicate items detected").
So `lang_python` builds the source and sink worlds with those exports
prefixed, then renames them back here. An export's name is only a label at
the component's top level: types and the code behind it do not refer to it.

The binary format (component model, ``Binary.md``): after the 8-byte
preamble come sections (id byte, u32 LEB128 size, payload); section 11
lists exports as ``0x00 name``, a sort index and an optional type.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["rename_exports"]

_PREAMBLE = b"\x00asm\x0d\x00\x01\x00"
_EXPORT_SECTION = 11


class _Reader:
    """Reads LEB128 numbers and bytes from `data`, from `at`."""

    def __init__(self, data: bytes, at: int = 0) -> None:
        self.data = data
        self.at = at

    def byte(self) -> int:
        value = self.data[self.at]
        self.at += 1
        return value

    def u32(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 28:
                raise ValueError("a LEB128 u32 is longer than 5 bytes")

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise ValueError("the binary ends inside a section")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk


def _u32(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _skip_export_rest(reader: _Reader) -> None:
    """Skip an export's sort index and optional extern description."""
    if reader.byte() == 0x00:  # a core sort: one more byte
        reader.byte()
    reader.u32()
    if reader.byte() == 0x00:  # no type given
        return
    kind = reader.byte()
    if kind == 0x00:  # core module: 0x11 and a type index
        reader.byte()
        reader.u32()
    elif kind in (0x02, 0x03):  # value (type index or primitive), type bound (eq or sub)
        if reader.byte() == 0x00:
            reader.u32()
    elif kind in (0x01, 0x04, 0x05):  # func, component, instance: a type index
        reader.u32()
    else:
        raise ValueError(f"unknown extern description 0x{kind:02x}")


def _renamed_section(payload: bytes, names: Mapping[str, str], done: set[str]) -> bytes:
    reader = _Reader(payload)
    count = reader.u32()
    out = bytearray(_u32(count))
    for _ in range(count):
        if reader.byte() != 0x00:
            raise ValueError("an export name with a version suffix; not supported")
        name = reader.take(reader.u32()).decode("utf-8")
        start = reader.at
        _skip_export_rest(reader)
        new = names.get(name, name)
        if new != name:
            done.add(name)
        encoded = new.encode("utf-8")
        out += b"\x00" + _u32(len(encoded)) + encoded + payload[start : reader.at]
    if reader.at != len(payload):
        raise ValueError("the export section has bytes after its last export")
    return bytes(out)


def rename_exports(component: bytes, names: Mapping[str, str]) -> bytes:
    """`component` with its top-level exports renamed by `names` (old -> new); each must exist."""
    if not component.startswith(_PREAMBLE):
        raise ValueError("not a WebAssembly component")
    reader = _Reader(component, len(_PREAMBLE))
    out = bytearray(_PREAMBLE)
    done: set[str] = set()
    while reader.at < len(component):
        section = reader.byte()
        payload = reader.take(reader.u32())
        if section == _EXPORT_SECTION:
            payload = _renamed_section(payload, names, done)
        out += bytes((section,)) + _u32(len(payload)) + payload
    missing = sorted(set(names) - done)
    if missing:
        raise ValueError(f"the component exports no {', '.join(missing)}")
    return bytes(out)
