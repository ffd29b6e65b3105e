"""How many `list<u8>` bytes (0.1) or text bytes (0.2) one WASM batch call may carry, and why.

Batch calls are cut by bytes as well as by count. In WIT 0.1 a record's
value is a `list<u8>`, and the wasmtime C API moves lists one element at a
time: every byte sent costs the host about 80 bytes during the call (our
32-byte C value, then wasmtime's own 48-byte value), and every byte returned
as much again. wasmtime also refuses to return more than about 2.7 MB of
`list<u8>` from one call (`HOSTCALL_FUEL` / `LIFT_COST`). So each batch
call is split into chunks whose `list<u8>` bytes stay under `call_bytes`
(derived from `limits.memory_bytes`, see `call_bytes`); one outcome per
record and the order are kept. A record too big for one call on its own
gets a `RecordTooLarge` (kind `limit`) in its slot, naming its size, the bound
and the `limits.memory_mb` that would let it through. Each chunk is its own
guest call with its own fuel and deadline; a trap in a later chunk fails the
whole batch call as before, so a sink may see the earlier chunks again when
the caller retries (sinks are at least once across traps).

WIT 0.2 moves a batch's values as one `string` per column, which wasmtime
copies at memcpy speed and counts about one hostcall fuel per byte it
returns (measured: an echo of 1024 records returned 134,164,480 bytes, 4 KiB
more failed). A 0.2 call costs the host about 4 bytes per text byte sent
(the decoded `str`, our lowered copy, wasmtime's, the guest's) and 6 for a
transform's round trip (measured peak RSS growth, 16 and 64 MiB batches), so
`call_bytes_v2` lets one call carry `memory_mb / 8` (`/ 12` for a
transform): 32 MiB and about 21 MiB at the 256 MB default, where 0.1 took
2 and 1 MiB. What one call may return stays under `RETURN_BYTES_V2`, about
half of wasmtime's budget, which leaves room for outputs bigger than inputs.
"""

from __future__ import annotations

from typing import Protocol

from dataflare.model import PluginKind

__all__ = [
    "DEFAULT_MEMORY_BYTES",
    "HOSTCALL_FUEL",
    "HOST_COST_ROUND_TRIP",
    "HOST_COST_SENT",
    "LIFT_COST",
    "MEMORY_PER_CALL_BYTE",
    "MIB",
    "MIN_CALL_BYTES",
    "RETURN_BYTES",
    "RETURN_BYTES_V2",
    "STRING_RETURN_LIMIT",
    "call_bytes",
    "call_bytes_v2",
    "memory_per_byte",
    "memory_per_byte_v2",
    "wire_bytes",
]

MIB = 1 << 20
HOSTCALL_FUEL = 128 * MIB
"""wasmtime's per-call budget for lifting guest data into the host (its default;
the C API has no setter), spent by the values a call returns."""
LIFT_COST = 48
"""Hostcall fuel per lifted `list<u8>` element (measured: 2,796,196 bytes
returned in one `list<u8>` pass, one more byte fails)."""
RETURN_BYTES = 2 * MIB
"""The most `list<u8>` bytes a transform chunk sends: under the ~2.67 MiB wasmtime
lets one call return, with room for outputs a little bigger than inputs."""
HOST_COST_SENT = 80
"""Host bytes per `list<u8>` byte during a call that sends it (our 32-byte C value,
then wasmtime's 48-byte value, alive together for the whole call)."""
HOST_COST_ROUND_TRIP = 2 * HOST_COST_SENT
"""The same for a call that also returns about as many bytes (transforms)."""
MEMORY_PER_CALL_BYTE = 128
"""`limits.memory_mb` bytes per `list<u8>` byte a one-way call may send: the host's
transient memory per call stays under 5/8 of `memory_mb` (80/128; 160/256 for a
transform), which with the 256 MB default leaves room for the target of 4x the
batch's bytes + 200 MB peak RSS."""
DEFAULT_MEMORY_BYTES = 256 * MIB
"""`limits.memory_mb`'s pipeline default, used when no memory limit is set."""
MIN_CALL_BYTES = 64 * 1024


STRING_RETURN_LIMIT = 134_164_480
"""The most `string` bytes wasmtime let one call return (measured; `HOSTCALL_FUEL` less
the call's other values)."""
RETURN_BYTES_V2 = 64 * MIB
"""The most text bytes a 0.2 transform chunk sends, or a 0.2 source read aims at."""
HOST_COST_V2_SENT = 4
"""Host bytes per text byte during a 0.2 call that sends it (measured peak RSS growth)."""
HOST_COST_V2_ROUND_TRIP = 6
"""The same for a 0.2 call that also returns about as many bytes (transforms)."""
MEMORY_PER_CALL_BYTE_V2 = 8
"""`limits.memory_mb` bytes per text byte a one-way 0.2 call may send: the host's
transient memory per call stays under half of `memory_mb` (4/8; 6/12 for a transform)."""


def memory_per_byte(kind: PluginKind) -> int:
    """`limits.memory_mb` bytes per `list<u8>` byte one call of a `kind` plugin may send."""
    return 2 * MEMORY_PER_CALL_BYTE if kind is PluginKind.TRANSFORM else MEMORY_PER_CALL_BYTE


def call_bytes(kind: PluginKind, memory_bytes: int | None) -> int:
    """The most `list<u8>` bytes one batch call of a `kind` plugin sends.

    `memory_bytes` (the instance's `limits.memory_mb`) / 128, or / 256 for a
    transform, whose output crosses back too: 2 MiB and 1 MiB at the 256 MB
    default. Raising `memory_mb` raises how big one record may be; a
    transform is also capped by what wasmtime lets one call return
    (`RETURN_BYTES`).
    """
    memory = DEFAULT_MEMORY_BYTES if memory_bytes is None else memory_bytes
    bound = max(MIN_CALL_BYTES, memory // memory_per_byte(kind))
    return min(bound, RETURN_BYTES) if kind is PluginKind.TRANSFORM else bound


def memory_per_byte_v2(kind: PluginKind) -> int:
    """`limits.memory_mb` bytes per text byte one 0.2 call of a `kind` plugin may send."""
    if kind is PluginKind.TRANSFORM:
        return MEMORY_PER_CALL_BYTE_V2 * HOST_COST_V2_ROUND_TRIP // HOST_COST_V2_SENT
    return MEMORY_PER_CALL_BYTE_V2


def call_bytes_v2(kind: PluginKind, memory_bytes: int | None) -> int:
    """The most text bytes (values and keys) one 0.2 batch call of a `kind` plugin sends.

    `memory_bytes` / 8, or / 12 for a transform, whose output crosses back
    too; a transform is also capped by `RETURN_BYTES_V2`.
    """
    memory = DEFAULT_MEMORY_BYTES if memory_bytes is None else memory_bytes
    bound = max(MIN_CALL_BYTES, memory // memory_per_byte_v2(kind))
    return min(bound, RETURN_BYTES_V2) if kind is PluginKind.TRANSFORM else bound


class _Payload(Protocol):
    """What `wire_bytes` reads: the model `Record` and the WIT record both have it."""

    @property
    def value(self) -> bytes: ...

    @property
    def key(self) -> bytes | None: ...


def wire_bytes(record: _Payload) -> int:
    """The `list<u8>` bytes `record` carries (value and key; strings move as one value)."""
    key = record.key
    return len(record.value) + (len(key) if key else 0)
