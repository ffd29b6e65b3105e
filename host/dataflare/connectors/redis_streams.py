"""Redis Streams source and sink (``redis``) over redis-py.

Both take ``url`` (``redis://[:password@]host:port/db``, ``rediss://`` for
TLS; default ``redis://localhost:6379/0``) and ``stream``.

An entry maps to a record field by field: ``value`` is the value, ``key``
the key, ``timestamp`` (an integer) the timestamp, and every other field a
metadata entry. An entry without a ``value`` field (written by something
else) becomes a record whose value is the JSON object of its fields. The
source's timestamp defaults to the entry ID's milliseconds.

The source reads as consumer ``consumer`` of the consumer group ``group``
(created at ``start`` when missing: ``0`` for the whole stream, ``$`` for
new entries only). Entries are acknowledged (``XACK``) only when the
pipeline's state file holds a position after them
(`dataflare.pipeline.checkpoints.CommittedSource`): after the sinks
committed the batch. Its position is the last entry ID delivered. With
``follow: true`` (the default) the stream never ends: when nothing is new
the source blocks at most ``block_ms`` (so a stop request is seen quickly)
and answers `PENDING`; ``follow: false`` ends at the first read that finds
nothing new.

Exactly once with a SQL sink: a crash leaves the entries read since the last
commit in the consumer's pending entries list (PEL). On restart the source
reads its PEL again before anything new, acknowledging what is at or before
the restored position, and cuts the rest into the same batches as before:
each batch's last ID is kept in a Redis list (`boundaries_key`) before the
batch is handed on and trimmed when it is acknowledged, so a sink that
committed the batch before the crash recognises it (see
`dataflare.pipeline.checkpoints`). The same ``batch_size`` is needed for that.

The sink adds one entry per record (``XADD``, a pipeline per batch);
``maxlen`` trims the stream approximately (``MAXLEN ~``). It is at least once
across crashes: a replayed batch is added again.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import pyarrow as pa
import redis

from dataflare.columns import (
    END,
    PENDING,
    SCHEMA,
    EndOfStream,
    Pending,
    RecordError,
    from_records,
    from_values,
    to_records,
)
from dataflare.errors import (
    ConfigurationError,
    PluginError,
    PluginIoError,
    ProcessingError,
    SerializationError,
)
from dataflare.model import ParamInfo, Record
from dataflare.plugins.base import SinkBase, SourceBase
from dataflare.plugins.registry import register

__all__ = [
    "RedisStreamSink",
    "RedisStreamSource",
    "boundaries_key",
    "entries_batch",
    "entry_record",
]

_URL = ParamInfo(
    "url",
    "redis:// or rediss:// URL: host, port, database, password",
    default="redis://localhost:6379/0",
)
_STREAM = ParamInfo("stream", "the stream's key", required=True)
_RESERVED = frozenset({"value", "key", "timestamp"})
_RESERVED_FIELDS = frozenset(name.encode() for name in _RESERVED)
_INTEGER = re.compile(rb"-?[0-9]{1,19}")
_CONNECT_TIMEOUT = 10.0
_SOCKET_TIMEOUT = 60.0
"""Seconds a command may take; above any ``block_ms`` allowed, so a blocked read never times out."""
_MAX_BLOCK_MS = 10_000


def boundaries_key(stream: str, group: str, consumer: str) -> str:
    """The Redis list of the last IDs of the batches a consumer handed on but has not acked."""
    return f"dataflare:batches:{group}:{consumer}:{stream}"


def _where(url: str) -> str:
    """The server `url` names, without its password, for messages."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"socket {parts.path}"
    try:
        port = parts.port or 6379
    except ValueError:
        return f"host {parts.hostname or 'localhost'} (the url's port is not a number)"
    return f"{parts.hostname or 'localhost'} port {port} database {parts.path.lstrip('/') or '0'}"


def _client(plugin: str, url: str) -> redis.Redis:
    """A client for `url`; `PluginIoError` naming the server if it does not answer."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=_CONNECT_TIMEOUT, socket_timeout=_SOCKET_TIMEOUT
        )
    except ValueError as exc:
        raise ConfigurationError(f"plugin {plugin!r}: url is not a Redis URL: {exc}") from None
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise PluginIoError(f"plugin {plugin!r}: cannot connect to {_where(url)}: {exc}") from exc
    return client


def _check_target(plugin: str, url: str, stream: str) -> None:
    """`ConfigurationError` for a URL redis-py cannot take, or an empty stream name."""
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError(
            f"plugin {plugin!r}: url must start with redis://, rediss:// or unix://; got "
            f"scheme {urlsplit(url).scheme!r}"
        )
    if not stream:
        raise ConfigurationError(f"plugin {plugin!r}: stream must not be empty")


def _id(text: bytes) -> tuple[int, int]:
    """A stream entry ID as a comparable pair."""
    ms, _, seq = text.partition(b"-")
    return int(ms), int(seq or 0)


def _text(raw: bytes) -> str:
    # surrogateescape keeps bytes that are not UTF-8, so the sink writes them back unchanged
    return raw.decode("utf-8", "surrogateescape")


def _integer(raw: bytes | None) -> int | None:
    """`raw` as a 64-bit integer if it is one (ASCII digits, an optional minus), else None."""
    if raw is None or not _INTEGER.fullmatch(raw):
        return None
    value = int(raw)
    return value if -(2**63) <= value < 2**63 else None


def entry_record(entry_id: bytes, fields: Mapping[bytes, bytes]) -> Record:
    """The record one stream entry stands for (see the module docstring)."""
    stamp = _id(entry_id)[0]
    if b"value" not in fields:
        document = {_text(k): v.decode("utf-8", "replace") for k, v in fields.items()}
        return Record(value=json.dumps(document).encode("utf-8"), timestamp=stamp)
    timestamp = _integer(fields.get(b"timestamp"))
    return Record(
        value=fields[b"value"],
        key=fields.get(b"key"),
        timestamp=stamp if timestamp is None else timestamp,
        metadata={_text(k): _text(v) for k, v in fields.items() if k not in _RESERVED_FIELDS},
    )


_Entry = tuple[bytes, dict[bytes, bytes]]
"""An entry as XREADGROUP gives it: ID and fields."""


def entries_batch(entries: Sequence[_Entry]) -> pa.RecordBatch:
    """The records of `entries` as a batch, as `entry_record` maps each one.

    Entries holding nothing but ``value``, ``key`` and ``timestamp`` (what the
    sink writes for records without metadata) become columns directly, with no
    `Record` per entry.
    """
    values: list[bytes] = []
    keys: list[bytes | None] = []
    stamps: list[int] = []
    for entry_id, fields in entries:
        if b"value" not in fields or not fields.keys() <= _RESERVED_FIELDS:
            return from_records([entry_record(i, f) for i, f in entries])
        values.append(fields[b"value"])
        keys.append(fields.get(b"key"))
        stamp = _integer(fields.get(b"timestamp"))
        stamps.append(int(entry_id.partition(b"-")[0]) if stamp is None else stamp)
    plain = from_values(pa.array(values, pa.binary()))
    return pa.RecordBatch.from_arrays(
        [
            pa.array(keys, pa.binary()),
            plain.column(1),
            pa.array(stamps, pa.int64()),
            plain.column(3),
        ],
        schema=SCHEMA,
    )


def _entries(found: Any) -> list[_Entry]:
    """The entries of one stream's XREADGROUP answer (nothing: an empty list)."""
    if not found:
        return []
    return [(bytes(i), fields) for i, fields in found[0][1]]


@dataclass(slots=True)
class _Delivered:
    """A batch handed on and not yet acknowledged: its last ID and all its IDs."""

    end: bytes
    ids: list[bytes]


@register("source", "redis")
class RedisStreamSource(SourceBase):
    """Reads a Redis stream as a consumer group member; acknowledges after each commit."""

    params: ClassVar[tuple[ParamInfo, ...]] = (
        _URL,
        _STREAM,
        ParamInfo("group", "consumer group (created when missing)", default="dataflare"),
        ParamInfo(
            "consumer",
            "consumer name in the group; one per running pipeline, the same after a restart",
            default="dataflare",
        ),
        ParamInfo(
            "start", "where a new group starts: 0 (whole stream) or $ (new only)", default="0"
        ),
        ParamInfo(
            "follow", "true: wait for new entries; false: end when none are new", default="true"
        ),
        ParamInfo("block_ms", "longest wait for new entries per read, in ms", default="100"),
    )

    def __init__(self) -> None:
        super().__init__()
        self._client: redis.Redis | None = None
        self._after = b"0-0"
        """Entries at or before this ID were committed (the restored position)."""
        self._last = b"0-0"
        self._started = False
        self._replaying = True
        self._cursor = b"0-0"
        self._buffer: deque[_Entry] = deque()
        self._marks: deque[bytes] = deque()
        """Batch ends to cut the replayed PEL at, as the run that crashed did."""
        self._listed: deque[bytes] = deque()
        """What the Redis list at `boundaries_key` holds (this consumer alone writes it)."""
        self._delivered: deque[_Delivered] = deque()
        self._lock = threading.Lock()  # `committed` runs on the main thread, reads may not
        self._block = 100

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters."""
        super().configure(config)
        name = self._plugin_name()
        if self.param("follow") not in ("true", "false"):
            raise ConfigurationError(f"plugin {name!r}: follow must be true or false")
        text = self.param("block_ms")
        if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_BLOCK_MS:
            raise ConfigurationError(
                f"plugin {name!r}: block_ms must be an integer from 1 to {_MAX_BLOCK_MS}; "
                f"got {text!r}"
            )
        self._block = int(text)
        _check_target(name, self.param("url"), self.param("stream"))

    @property
    def _key(self) -> str:
        return boundaries_key(self.param("stream"), self.param("group"), self.param("consumer"))

    def connect(self) -> None:
        """Connect and make sure the consumer group exists."""
        self._client = _client(self._plugin_name(), self.param("url"))
        try:
            self._client.xgroup_create(
                self.param("stream"), self.param("group"), id=self.param("start"), mkstream=True
            )
        except redis.ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):
                raise self._error(exc) from exc
        except redis.RedisError as exc:
            raise self._error(exc) from exc

    def restore(self, position: bytes) -> None:
        """Continue after a position from `checkpoint` (same stream, group and consumer)."""
        if not position:
            return
        try:
            saved = json.loads(position)
            where = (saved["stream"], saved["group"], saved["consumer"])
            after = str(saved["id"]).encode("ascii")
            _id(after)
        except (ValueError, KeyError, TypeError) as exc:
            raise ProcessingError(
                f"plugin {self._plugin_name()!r}: unreadable position {position[:80]!r}"
            ) from exc
        mine = (self.param("stream"), self.param("group"), self.param("consumer"))
        if where != mine:
            raise ProcessingError(
                f"plugin {self._plugin_name()!r}: the saved position is for stream, group, "
                f"consumer {where}, not {mine}; delete the state file to start over"
            )
        self._after = self._last = self._cursor = after

    def checkpoint(self) -> bytes:
        """The last entry ID handed on, with the stream, group and consumer it belongs to."""
        # the ID first: messages quote a position's first 80 bytes
        return json.dumps(
            {
                "id": self._last.decode("ascii"),
                "stream": self.param("stream"),
                "group": self.param("group"),
                "consumer": self.param("consumer"),
            }
        ).encode("utf-8")

    def read(self, max_records: int) -> list[Record]:
        """`read_columns` as records; empty when nothing is new (which ends a per-record reader)."""
        outcome = self.read_columns(max_records)
        return [] if isinstance(outcome, Pending | EndOfStream) else to_records(outcome)

    def read_columns(self, max_records: int) -> pa.RecordBatch | Pending | EndOfStream:
        """Up to `max_records` entries: first the PEL left by a crash, then new ones."""
        client = self._connected()
        if self._replaying:
            entries, marked = self._replay(client, max_records)
            if entries:
                return self._hand_on(client, entries, marked)
        try:
            found = client.xreadgroup(
                self.param("group"),
                self.param("consumer"),
                {self.param("stream"): ">"},
                count=max_records,
                block=self._block if self.param("follow") == "true" else None,
            )
        except redis.RedisError as exc:
            raise self._error(exc) from exc
        entries = _entries(found)
        if not entries:
            return PENDING if self.param("follow") == "true" else END
        return self._hand_on(client, entries, False)

    def unbounded(self) -> bool:
        """With ``follow: true`` the stream never ends: the run goes on until stopped."""
        return self.param("follow") == "true"

    def committed(self, position: bytes) -> None:
        """Acknowledge every entry handed on up to `position`: the sinks hold them."""
        end = _id(str(json.loads(position)["id"]).encode("ascii"))
        with self._lock:
            ids = []
            while self._delivered and _id(self._delivered[0].end) <= end:
                ids.extend(self._delivered.popleft().ids)
            listed = 0
            while self._listed and _id(self._listed[0]) <= end:
                self._listed.popleft()
                listed += 1
        if ids or listed:
            self._acknowledge(self._connected(), ids, listed)

    def close(self) -> None:
        """Close the connection; what was not acknowledged stays pending for the next run."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _replay(self, client: redis.Redis, max_records: int) -> tuple[list[_Entry], bool]:
        """The next batch from this consumer's PEL, and whether it ends where a batch ended."""
        if not self._started:
            self._start_replay(client)
            self._started = True
        if len(self._buffer) < max_records:
            try:
                found = client.xreadgroup(
                    self.param("group"),
                    self.param("consumer"),
                    {self.param("stream"): self._cursor},
                    count=max_records,
                )
            except redis.RedisError as exc:
                raise self._error(exc) from exc
            more = _entries(found)
            if more:
                self._cursor = more[-1][0]
                self._buffer.extend(more)
        if not self._buffer:
            self._replaying = False
            self._marks.clear()
            return [], False
        out: list[_Entry] = []
        while self._buffer and len(out) < max_records:
            entry = self._buffer.popleft()
            out.append(entry)
            if self._marks and _id(entry[0]) >= _id(self._marks[0]):
                marked = _id(entry[0]) == _id(self._marks[0])
                while self._marks and _id(self._marks[0]) <= _id(entry[0]):
                    self._marks.popleft()
                return out, marked
        return out, False

    def _start_replay(self, client: redis.Redis) -> None:
        """Acknowledge the PEL entries at or before the restored position; load the batch ends."""
        stream, group, consumer = self.param("stream"), self.param("group"), self.param("consumer")
        after = _id(self._after)
        try:
            listed = cast(list[bytes], client.lrange(self._key, 0, -1))
            committed = sum(1 for m in listed if _id(m) <= after)
            while True:
                stale = cast(
                    list[dict[str, Any]],
                    client.xpending_range(stream, group, "-", self._after, 1000, consumer),
                )
                if not stale:
                    break
                client.xack(stream, group, *[e["message_id"] for e in stale])
            if committed:
                client.ltrim(self._key, committed, -1)
        except redis.RedisError as exc:
            raise self._error(exc) from exc
        kept = sorted((m for m in listed if _id(m) > after), key=_id)
        self._marks = deque(kept)
        with self._lock:
            self._listed = deque(kept)

    def _hand_on(
        self, client: redis.Redis, entries: list[_Entry], marked: bool
    ) -> pa.RecordBatch | Pending:
        """Record where the batch ends (unless that is recorded), then make its records."""
        end = entries[-1][0]
        if not marked:
            # before the batch goes anywhere: a replay after a crash must cut here too
            try:
                client.rpush(self._key, end)
            except redis.RedisError as exc:
                raise self._error(exc) from exc
            with self._lock:
                self._listed.append(end)
        with self._lock:
            self._delivered.append(_Delivered(end, [entry_id for entry_id, _ in entries]))
        self._last = end
        # entries deleted from the stream (XDEL, trimming) come back without fields
        batch = entries_batch([entry for entry in entries if entry[1]])
        # an empty batch would end the stream: ask again (they are acked with the next batch)
        return batch if batch.num_rows else PENDING

    def _acknowledge(self, client: redis.Redis, ids: Sequence[bytes], listed: int) -> None:
        """XACK `ids` and drop the first `listed` recorded batch ends, in one transaction."""
        pipe = client.pipeline(transaction=True)
        if ids:
            pipe.xack(self.param("stream"), self.param("group"), *ids)
        if listed:
            pipe.ltrim(self._key, listed, -1)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise self._error(exc) from exc

    def _connected(self) -> redis.Redis:
        if self._client is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: read before connect")
        return self._client

    def _error(self, exc: redis.RedisError) -> PluginIoError:
        return _io_error(self._plugin_name(), self.param("stream"), self.param("url"), exc)


def _io_error(plugin: str, stream: str, url: str, exc: redis.RedisError) -> PluginIoError:
    """`exc` as the error of `plugin` on `stream` at `url` (its password masked)."""
    return PluginIoError(f"plugin {plugin!r}: stream {stream!r} on {_where(url)}: {exc}")


def _fields(record: Record) -> dict[str, bytes]:
    """The entry `record` becomes; `SerializationError` if metadata takes a reserved name."""
    fields = {"value": record.value}
    if record.key is not None:
        fields["key"] = record.key
    if record.timestamp is not None:
        fields["timestamp"] = b"%d" % record.timestamp
    for name, item in record.metadata.items():
        if name in _RESERVED:
            raise SerializationError(
                f"metadata entry {name!r} would overwrite the entry's {name} field"
            )
        fields[name] = item.encode("utf-8", "surrogateescape")
    return fields


@register("sink", "redis")
class RedisStreamSink(SinkBase):
    """Adds each record to a Redis stream as one entry (XADD), a pipeline per batch."""

    params: ClassVar[tuple[ParamInfo, ...]] = (
        _URL,
        _STREAM,
        ParamInfo("maxlen", "trim the stream to about this many entries (MAXLEN ~)"),
    )

    def __init__(self) -> None:
        super().__init__()
        self._client: redis.Redis | None = None
        self._maxlen: int | None = None

    def configure(self, config: Mapping[str, str]) -> None:
        """Check the parameters."""
        super().configure(config)
        name = self._plugin_name()
        _check_target(name, self.param("url"), self.param("stream"))
        text = self.config.get("maxlen")
        if text is not None:
            if not text.isascii() or not text.isdigit() or int(text) < 1:
                raise ConfigurationError(
                    f"plugin {name!r}: maxlen must be a positive integer; got {text!r}"
                )
            self._maxlen = int(text)

    def connect(self) -> None:
        """Connect to the server."""
        self._client = _client(self._plugin_name(), self.param("url"))

    def write(self, record: Record) -> None:
        """Add one record."""
        outcome = self.write_batch([record])[0]
        if outcome is not None:
            raise outcome

    def write_columns(self, batch: pa.RecordBatch) -> Mapping[int, RecordError]:
        """`write_batch` for a column batch; failures by row."""
        outcomes = self.write_batch(to_records(batch))
        return {i: error for i, error in enumerate(outcomes) if error is not None}

    def write_batch(self, records: Sequence[Record]) -> list[PluginError | None]:
        """Add every record in one round trip; a record the server refuses fails alone."""
        if self._client is None:
            raise PluginIoError(f"plugin {self._plugin_name()!r}: write before connect")
        stream = self.param("stream")
        outcomes: list[PluginError | None] = []
        pipe = self._client.pipeline(transaction=False)
        sent: list[int] = []
        for i, record in enumerate(records):
            try:
                fields = _fields(record)
            except PluginError as exc:
                outcomes.append(exc)
                continue
            outcomes.append(None)
            sent.append(i)
            pipe.xadd(stream, fields, maxlen=self._maxlen, approximate=True)  # type: ignore[arg-type]
        if not sent:
            return outcomes
        try:
            replies = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            raise _io_error(self._plugin_name(), stream, self.param("url"), exc) from exc
        for i, reply in zip(sent, replies, strict=True):
            if isinstance(reply, Exception):
                outcomes[i] = ProcessingError(f"plugin {self._plugin_name()!r}: XADD: {reply}")
        return outcomes

    def close(self) -> None:
        """Close the connection."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
