"""Columnar batches (WIT `dataflare:plugin@0.2.0`) for Python guests.

A batch arrives as columns: every value in one `string` with UTF-8 byte
`ends`, keys likewise, timestamps as one list, metadata as sparse pairs in
columns (the record of each pair, and names and values as string columns).
`Batch` checks the columns once, encodes the value text to bytes once, and
hands plugin code one `RecordView` per record; a view slices its value from
those bytes when asked and looks its key, timestamp and metadata up lazily,
so a plugin that reads only values never pays for the rest. The `*_batch`
functions run a plugin's per-record function over a batch and build the
compact outcome (filter bitmap, transform batch with placeholders, sparse
record errors); the `*_one` functions run the same function on a single
WIT record, so the per-record and batch exports cannot disagree.

Why so little per record: componentize-py runs CPython compiled to wasm, where
every object made per record costs; a WIT `Record` dataclass per record
costs several of them. A malformed batch (bad `ends`, indices out of range,
metadata columns of different lengths) fails every record with a
serialization error, never traps the instance.
"""

from bisect import bisect_left
from collections import Counter
from itertools import accumulate
from operator import itemgetter

from componentize_py_types import Err
from wit_world.imports import types

_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that cannot start a character


class BadBatch(Exception):
    """The batch breaks the WIT's column rules; `args[0]` says how."""


def _check_indices(indices, n, what):
    """Sparse record indices must be strictly increasing and below `n`."""
    if indices and (indices != sorted(set(indices)) or indices[-1] >= n):
        raise BadBatch(f"{what} indices must be strictly increasing and below {n}")


def _check_boundaries(data, ends, what):
    """Every end inside `data` must fall on a character boundary (C-speed)."""
    inner = ends[: bisect_left(ends, len(data))]
    if not inner:
        return
    picked = itemgetter(*inner)(data)
    at = bytes(picked) if isinstance(picked, tuple) else bytes((picked,))
    if len(at.translate(None, _CONTINUATION)) != len(at):
        raise BadBatch(f"{what}: an end falls inside a UTF-8 character")


def _check_ends(data, ends, what):
    """`ends` must never decrease, end at `len(data)` and fall on character boundaries."""
    if not ends:
        if data:
            raise BadBatch(f"{what}: text without items")
        return
    if ends[-1] != len(data):
        raise BadBatch(f"{what}: the last end is {ends[-1]}, the text has {len(data)} bytes")
    if ends != sorted(ends):
        raise BadBatch(f"{what}: ends must never decrease")
    if not data.isascii():
        _check_boundaries(data, ends, what)


class _Column:
    """A checked `bytes-column`: its text as bytes, start and end per record."""

    __slots__ = ("absent", "binary", "data", "ends", "starts")

    def __init__(self, column, n, what, may_be_absent):
        text, ends = column.text, column.ends
        data = text.encode("utf-8")  # once per batch; views slice bytes
        if len(ends) != n:
            raise BadBatch(f"{what} has {len(ends)} ends for {n} records")
        _check_ends(data, ends, what)
        starts = [0, *ends[:-1]] if n else []
        binary = dict(column.binary) if column.binary else None
        absent = frozenset(column.absent) if column.absent else None
        if binary:
            _check_indices([i for i, _ in column.binary], n, f"{what} binary")
        if absent:
            if not may_be_absent:
                raise BadBatch(f"{what}: a value column has no absent records")
            _check_indices(list(column.absent), n, f"{what} absent")
            if binary and not absent.isdisjoint(binary):
                raise BadBatch(f"{what}: a record is both binary and absent")
        for i in list(binary or ()) + list(absent or ()):
            if starts[i] != ends[i]:
                raise BadBatch(f"{what}: record {i} is binary or absent but has text")
        self.data, self.starts, self.ends = data, starts, ends
        self.binary, self.absent = binary, absent

    def item(self, i):
        """Record i's bytes, or None when absent."""
        if self.binary is not None and i in self.binary:
            return self.binary[i]
        if self.absent is not None and i in self.absent:
            return None
        return self.data[self.starts[i] : self.ends[i]]

    def items(self):
        """Every record's bytes (None when absent), sliced in one pass."""
        data = self.data
        out = [data[s:e] for s, e in zip(self.starts, self.ends, strict=True)]
        for i in self.absent or ():
            out[i] = None
        for i, raw in (self.binary or {}).items():
            out[i] = raw
        return out


class _Strings:
    """A checked `string-column`, sliced into `str`s on first use.

    ASCII text (the usual metadata) is sliced as `str` directly, since byte
    and character offsets agree; other text is encoded once (the checks need
    its byte length anyway), sliced as bytes and each item decoded.
    """

    __slots__ = ("data", "ends", "text")

    def __init__(self, column, what):
        text, ends = column.text, column.ends
        self.data = None if text.isascii() else text.encode("utf-8")
        _check_ends(text if self.data is None else self.data, ends, what)
        self.text, self.ends = text, ends

    def items(self):
        """Every item as a `str`, in order."""
        ends = self.ends
        starts = [0, *ends[:-1]] if ends else []
        if self.data is None:
            text = self.text
            return [text[s:e] for s, e in zip(starts, ends, strict=True)]
        data = self.data
        return [data[s:e].decode("utf-8") for s, e in zip(starts, ends, strict=True)]


class _Metadata:
    """A checked `metadata-column`, indexed by record on the first lookup.

    A batch whose metadata is never read pays only the checks. The first
    lookup slices every name and value once and finds where each record's
    pairs start (`Counter` counts at C speed, then one step per record that
    has metadata), so a lookup is then one list slice.
    """

    __slots__ = ("columns", "firsts", "n", "pairs", "records")

    def __init__(self, column, n):
        records = column.records
        if len(column.names.ends) != len(records) or len(column.values.ends) != len(records):
            raise BadBatch(
                f"metadata has {len(records)} records, {len(column.names.ends)} names"
                f" and {len(column.values.ends)} values"
            )
        if records and (records != sorted(records) or records[-1] >= n):
            raise BadBatch(f"metadata records must never decrease and be below {n}")
        self.records, self.n = records, n
        self.columns = (
            _Strings(column.names, "metadata names"),
            _Strings(column.values, "metadata values"),
        )
        self.pairs = self.firsts = None

    def lookup(self, i):
        """Record i's (name, value) pairs, in order, as a new list."""
        firsts = self.firsts
        if firsts is None:
            names, values = self.columns
            self.pairs = list(zip(names.items(), values.items(), strict=True))
            counts = [0] * (self.n + 1)
            for record, count in Counter(self.records).items():
                counts[record + 1] = count
            firsts = self.firsts = list(accumulate(counts))  # record i's pairs start at firsts[i]
        return self.pairs[firsts[i] : firsts[i + 1]]


def _metadata(column, n):
    """A `_Metadata`, or None when the column holds no pair (and nothing else)."""
    if column.records or column.names.ends or column.values.ends:
        return _Metadata(column, n)
    if column.names.text or column.values.text:
        raise BadBatch("metadata: text without items")
    return None


class Batch:
    """A checked WIT batch: `len`, iteration over `RecordView`s, and columns for batch-aware code.

    Raises `BadBatch` when the columns break the WIT's rules.
    """

    __slots__ = ("_keys", "_meta", "_times", "_values", "n", "wit")

    def __init__(self, batch):
        self.wit = batch
        n = self.n = len(batch.values.ends)
        self._values = _Column(batch.values, n, "values", False)
        self._keys = None if batch.keys is None else _Column(batch.keys, n, "keys", True)
        times = batch.timestamps
        if times is not None:
            if len(times.values) != n:
                raise BadBatch(f"timestamps has {len(times.values)} values for {n} records")
            _check_indices(times.absent, n, "timestamps absent")
        self._times = None  # the absent timestamps' indices, as a set built on first use
        self._meta = _metadata(batch.metadata, n)

    def __len__(self):
        return self.n

    def __iter__(self):
        for i in range(self.n):
            yield RecordView(self, i)

    def value(self, i):
        """Record i's value bytes."""
        return self._values.item(i)

    def values(self):
        """Every value as bytes, in order (for batch-aware plugins)."""
        return self._values.items()

    def key(self, i):
        """Record i's key bytes, or None."""
        return None if self._keys is None else self._keys.item(i)

    def keys(self):
        """Every key (bytes or None), in order."""
        return [None] * self.n if self._keys is None else self._keys.items()

    def timestamp(self, i):
        """Record i's timestamp (ms since the epoch), or None."""
        times = self.wit.timestamps
        if times is None:
            return None
        if self._times is None:
            self._times = frozenset(times.absent)
        return None if i in self._times else times.values[i]

    def metadata(self, i):
        """Record i's metadata as a new list of (name, value) pairs."""
        return [] if self._meta is None else self._meta.lookup(i)


class RecordView:
    """One record of a `Batch`, read in place; it has a WIT record's attributes.

    `value`, `key`, `timestamp` and `metadata` are computed on each access, so
    read each once. `with_value(v)` is the cheap way for a transform to return
    the same record with a new value.
    """

    __slots__ = ("batch", "index")

    def __init__(self, batch, index):
        self.batch = batch
        self.index = index

    @property
    def value(self):
        """The value bytes."""
        column, i = self.batch._values, self.index  # inlined: read once per record
        if column.binary is not None and i in column.binary:
            return column.binary[i]
        return column.data[column.starts[i] : column.ends[i]]

    @property
    def key(self):
        """The key bytes, or None."""
        return self.batch.key(self.index)

    @property
    def timestamp(self):
        """Milliseconds since the epoch, or None."""
        return self.batch.timestamp(self.index)

    @property
    def metadata(self):
        """A new list of (name, value) pairs."""
        return self.batch.metadata(self.index)

    def with_value(self, value):
        """This record with `value` in place of its value (key, timestamp, metadata kept)."""
        return Edited(self, value)


class Edited:
    """A record that is `source` with a new value; what `with_value` returns."""

    __slots__ = ("source", "value")

    def __init__(self, source, value):
        self.source = source
        self.value = value

    @property
    def key(self):
        return self.source.key

    @property
    def timestamp(self):
        return self.source.timestamp

    @property
    def metadata(self):
        return self.source.metadata

    def with_value(self, value):
        return Edited(self.source, value)


class OneRecord:
    """A single WIT record, with `with_value` like a `RecordView` (for the per-record exports)."""

    __slots__ = ("key", "metadata", "timestamp", "value")

    def __init__(self, record):
        self.value = record.value
        self.key = record.key
        self.timestamp = record.timestamp
        self.metadata = record.metadata

    def with_value(self, value):
        """This record with `value` in place of its value."""
        return Edited(self, value)


def as_wit_record(record):
    """Any record-like object (view, edit, WIT record) as a WIT `Record`."""
    if isinstance(record, types.Record):
        return record
    return types.Record(record.key, bytes(record.value), record.timestamp, list(record.metadata))


# ---- building columns ------------------------------------------------------


def bytes_column(items, may_be_absent=True):
    """A WIT `bytes-column` from a list of bytes (None = absent); the list is modified."""
    binary, absent = [], []
    if may_be_absent:
        for i, item in enumerate(items):
            if item is None:
                absent.append(i)
                items[i] = b""
    joined = b"".join(items)
    try:
        text = joined.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    ends = list(accumulate(map(len, items)))
    if text is not None and not text.isascii():
        try:
            _check_boundaries(joined, ends, "output")
        except BadBatch:
            text = None  # valid as a whole, but some items split characters
    if text is None:  # rare: some items are not UTF-8 on their own
        for i, item in enumerate(items):
            try:
                item.decode("utf-8")
            except UnicodeDecodeError:
                binary.append((i, bytes(item)))
                items[i] = b""
        text = b"".join(items).decode("utf-8")
        ends = list(accumulate(map(len, items)))
    return types.BytesColumn(text, ends, binary, absent)


def string_column(items):
    """A WIT `string-column` from a list of `str`s."""
    text = "".join(items)
    lengths = map(len, items) if text.isascii() else map(len, map(str.encode, items))
    return types.StringColumn(text, list(accumulate(lengths)))


def metadata_column(records, names, values):
    """A WIT `metadata-column` from three lists: each pair's record, name and value."""
    return types.MetadataColumn(records, string_column(names), string_column(values))


def timestamp_column(times):
    """A WIT `timestamp-column` from a list of ints or None, or None when all are None."""
    absent = [i for i, t in enumerate(times) if t is None]
    if len(absent) == len(times):
        return None
    values = [0 if t is None else t for t in times] if absent else times
    return types.TimestampColumn(values, absent)


def batch_of(records, values=None):
    """A WIT `batch` from record-like objects (views, edits, WIT records); None is a placeholder.

    `values`, when given, are the records' values (so they are not read again).
    """
    own_values = values is None
    values = [] if own_values else values
    keys, times, owners, names, metadata_values = [], [], [], [], []
    for i, r in enumerate(records):
        if r is None:
            if own_values:
                values.append(b"")
            keys.append(None)
            times.append(None)
            continue
        if own_values:
            values.append(r.value)
        keys.append(r.key)
        times.append(r.timestamp)
        for name, value in r.metadata:
            owners.append(i)
            names.append(name)
            metadata_values.append(value)
    has_keys = any(k is not None for k in keys)
    return types.Batch(
        bytes_column(values, may_be_absent=False),
        bytes_column(keys) if has_keys else None,
        timestamp_column(times),
        metadata_column(owners, names, metadata_values),
    )


# ---- running a plugin's per-record function --------------------------------


def _every_record_fails(n, problem):
    error = types.PluginError_Serialization(f"malformed batch: {problem}")
    return [types.RecordError(i, error) for i in range(n)]


def bitmap(flags):
    """Pack a bytearray of b"0"/b"1" flags, one per record, into the LSB-first keep bitmap."""
    if not flags:
        return b""
    return int(flags[::-1], 2).to_bytes((len(flags) + 7) // 8, "little")


def filter_batch(batch, keep):
    """`filter-outcome` for a WIT batch; `keep(view)` returns a bool or raises `Err`."""
    try:
        view = Batch(batch)
    except BadBatch as exc:
        n = len(batch.values.ends)
        return types.FilterOutcome(bytes((n + 7) // 8), _every_record_fails(n, exc.args[0]))
    flags = bytearray(b"0") * view.n
    errors = []
    for i in range(view.n):
        try:
            if keep(RecordView(view, i)):
                flags[i] = 49  # b"1"
        except Err as err:
            errors.append(types.RecordError(i, err.value))
    return types.FilterOutcome(bitmap(flags), errors)


def filter_one(record, keep):
    """The per-record `filter` export: `keep` on one WIT record."""
    return bool(keep(OneRecord(record)))


def transform_batch(batch, transform):
    """`transform-outcome` for a WIT batch; `transform(view)` returns a record-like or raises `Err`.

    When every output is its own input `with_value(...)` and no record
    fails, the key, timestamp and metadata columns go back as they came.
    """
    try:
        view = Batch(batch)
    except BadBatch as exc:
        n = len(batch.values.ends)
        return types.TransformOutcome(batch_of([None] * n), _every_record_fails(n, exc.args[0]))
    n = view.n
    values = [b""] * n
    errors, others = [], {}
    for i in range(n):
        source = RecordView(view, i)
        try:
            out = transform(source)
        except Err as err:
            errors.append(types.RecordError(i, err.value))
            continue
        values[i] = out.value
        src = out.source if type(out) is Edited else None
        if not (type(src) is RecordView and src.index == i and src.batch is view):
            others[i] = out
    if not errors and not others:
        wit = view.wit
        out_batch = types.Batch(
            bytes_column(values, may_be_absent=False), wit.keys, wit.timestamps, wit.metadata
        )
        return types.TransformOutcome(out_batch, errors)
    failed = {e.index for e in errors}
    records = [None if i in failed else others.get(i) or RecordView(view, i) for i in range(n)]
    return types.TransformOutcome(batch_of(records, values), errors)


def transform_one(record, transform):
    """The per-record `transform` export: `transform` on one WIT record, as a WIT record."""
    return as_wit_record(transform(OneRecord(record)))


def write_batch(batch, write):
    """A sink's `write-batch`: call `write(view)` on each record; the sparse record errors."""
    return fold_batch(batch, write)


def fold_batch(batch, fold):
    """Call `fold(view)` on each record; the sparse record errors (`fold` raised `Err`).

    `fold` must leave its state unchanged when it raises.
    """
    try:
        view = Batch(batch)
    except BadBatch as exc:
        return _every_record_fails(len(batch.values.ends), exc.args[0])
    errors = []
    for i in range(view.n):
        try:
            fold(RecordView(view, i))
        except Err as err:
            errors.append(types.RecordError(i, err.value))
    return errors
