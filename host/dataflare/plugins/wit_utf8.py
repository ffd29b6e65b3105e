"""The 0.2 world classes with their batch exports bound to carry `text` as UTF-8 bytes.

A batch's `text` is a WIT `string`. Through the generated bindings it is a
Python `str`: the host would decode a column's bytes into a `str` and the
codec encode it back to UTF-8 to lower it, and the other way on return; for
non-ASCII text those passes cost several times the call itself (measured:
an echo of 1 MiB of non-ASCII text took 10 ms against 2 ms for ASCII). So
here the batch exports are re-bound with `rt.UTF8`: `text` crosses as
bytes (any bytes-like going in, `bytes` coming back), the same dataclasses,
one copy each way. The callers (`wit_columns`) vouch that the bytes are
UTF-8. Everything else is the generated class's.
"""

from __future__ import annotations

from typing import Any, ClassVar

import wasmtime
import wasmtime.component

from dataflare._wit import aggregate as wit_aggregate
from dataflare._wit import filter as wit_filter
from dataflare._wit import sink as wit_sink
from dataflare._wit import source as wit_source
from dataflare._wit import transform as wit_transform
from dataflare._wit import types as wit
from dataflare.abi import rt

__all__ = ["BATCH", "Aggregate", "Filter", "Sink", "Source", "Transform"]

_U32S = rt.list_of(rt.U32)
COLUMN: rt.Codec[wit.BytesColumn] = rt.record(
    wit.BytesColumn,
    (
        ("text", "text", rt.UTF8),
        ("ends", "ends", _U32S),
        ("binary", "binary", rt.list_of(rt.tuple_of(rt.U32, rt.BYTES))),
        ("absent", "absent", _U32S),
    ),
)
"""`bytes-column` with `text` as UTF-8 bytes."""
STRINGS: rt.Codec[wit.StringColumn] = rt.record(
    wit.StringColumn, (("text", "text", rt.UTF8), ("ends", "ends", _U32S))
)
"""`string-column` (metadata names or values) with `text` as UTF-8 bytes."""
BATCH: rt.Codec[wit.Batch] = rt.record(
    wit.Batch,
    (
        ("values", "values", COLUMN),
        ("keys", "keys", rt.option(COLUMN)),
        (
            "timestamps",
            "timestamps",
            rt.option(
                rt.record(
                    wit.TimestampColumn,
                    (("values", "values", rt.list_of(rt.S64)), ("absent", "absent", _U32S)),
                )
            ),
        ),
        (
            "metadata",
            "metadata",
            rt.record(
                wit.MetadataColumn,
                (
                    ("records", "records", _U32S),
                    ("names", "names", STRINGS),
                    ("values", "values", STRINGS),
                ),
            ),
        ),
    ),
)
"""`batch` whose columns carry `text` as UTF-8 bytes."""
_ERROR = rt.variant(
    (
        ("processing", wit.PluginErrorProcessing, rt.STRING),
        ("configuration", wit.PluginErrorConfiguration, rt.STRING),
        ("io", wit.PluginErrorIo, rt.STRING),
        ("serialization", wit.PluginErrorSerialization, rt.STRING),
    )
)
_RECORD_ERRORS = rt.list_of(
    rt.record(wit.RecordError, (("index", "index", rt.U32), ("error", "error", _ERROR)))
)
_FILTER_OUTCOME = rt.record(
    wit.FilterOutcome, (("keep", "keep", rt.BYTES), ("errors", "errors", _RECORD_ERRORS))
)
_TRANSFORM_OUTCOME = rt.record(
    wit.TransformOutcome, (("records", "records", BATCH), ("errors", "errors", _RECORD_ERRORS))
)
_FOLD_OUTCOME = rt.record(
    wit.FoldOutcome,
    (("accumulator", "accumulator", rt.BYTES), ("errors", "errors", _RECORD_ERRORS)),
)
_READ = rt.result(
    rt.variant(
        (
            ("records", wit.ReadOutcomeRecords, BATCH),
            ("pending", wit.ReadOutcomePending, None),
            ("end", wit.ReadOutcomeEnd, None),
        )
    ),
    _ERROR,
)
_EMIT = rt.result(BATCH, _ERROR)


_Rebound = tuple[str, str, tuple[rt.Codec[Any], ...], Any]
"""(attribute, export, parameter codecs, result codec) of one re-bound export."""


class _Utf8Batches:
    """Re-binds the exports listed in `_REBOUND` once the generated class has bound them all."""

    __slots__ = ()
    _REBOUND: ClassVar[tuple[_Rebound, ...]] = ()

    def __init__(
        self,
        store: wasmtime.Store,
        instance: wasmtime.component.Instance,
        *,
        native: bool | None = None,
    ) -> None:
        super().__init__(store, instance, native=native)  # type: ignore[call-arg]
        world: Any = self
        cx = world._cx
        for attribute, export, params, result in self._REBOUND:
            setattr(self, attribute, rt.typed(cx, cx.func(None, export), params, result))


class Filter(_Utf8Batches, wit_filter.Filter):
    """`Filter` whose `filter_batch` takes a batch with UTF-8 bytes `text`."""

    __slots__ = ()
    _REBOUND = (("_filter_batch", "filter-batch", (BATCH,), _FILTER_OUTCOME),)


class Transform(_Utf8Batches, wit_transform.Transform):
    """`Transform` whose `transform_batch` moves batches with UTF-8 bytes `text`."""

    __slots__ = ()
    _REBOUND = (("_transform_batch", "transform-batch", (BATCH,), _TRANSFORM_OUTCOME),)


class Aggregate(_Utf8Batches, wit_aggregate.Aggregate):
    """`Aggregate` whose `aggregate_batch` and `emit` move batches with UTF-8 bytes `text`."""

    __slots__ = ()
    _REBOUND = (
        ("_aggregate_batch", "aggregate-batch", (rt.BYTES, BATCH), _FOLD_OUTCOME),
        ("_emit", "emit", (rt.BYTES,), _EMIT),
    )


class Source(_Utf8Batches, wit_source.Source):
    """`Source` whose `read` returns batches with UTF-8 bytes `text`."""

    __slots__ = ()
    _REBOUND = (("_read", "read", (rt.U32,), _READ),)


class Sink(_Utf8Batches, wit_sink.Sink):
    """`Sink` whose `write_batch` takes batches with UTF-8 bytes `text`."""

    __slots__ = ()
    _REBOUND = (("_write_batch", "write-batch", (BATCH,), _RECORD_ERRORS),)
