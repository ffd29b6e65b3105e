"""DataFlare plugins in Python, tersely: one decorator per kind, typed parameters, JSON helpers.

A plugin is one module (``plugin.py`` in a project made by `dataflare new`);
`dataflare build` bundles it with this SDK into a WebAssembly component. A
whole filter::

    from dataflare_guest import filter, json_object, param

    MIN = param("min", float, 10, "keep records whose amount is above this")

    @filter(name="amount_min", version="0.1.0")
    def keep(record):
        '''Keep records whose JSON "amount" is a number above `min`.'''
        amount = json_object(record).get("amount")
        return isinstance(amount, float) and amount > MIN.value

**Name, version, description** are the decorator's keyword arguments:
``name`` (default: the function's or class's name), ``version`` (default
"0.1.0") and ``description`` (default: the first line of its docstring,
else of the module's). One plugin per module.

**Kinds.** Functions receive a record (``.value`` bytes, ``.key`` bytes or
None, ``.timestamp`` ms or None, ``.metadata`` [(name, value)], and
``.with_value(v)``); the SDK runs the same function for a kind's
single-record and columnar batch exports, so the two always agree:

* ``@filter def keep(record) -> bool``;
* ``@transform def change(record)`` returns the new value: ``bytes`` as they
  are, ``str`` as UTF-8 text, anything else (dict, list, number, ...) as JSON;
  the key, timestamp and metadata are kept. Return a record (`record(...)`,
  ``record.with_value(...)``) to change those too;
* ``@sink def write(record)`` (or a class with ``write`` and optional
  ``connect``, ``flush``, ``close``);
* ``@aggregate class``: ``init(self)`` the empty state, ``fold(self, acc,
  record)`` the state with one record folded in (returning None means `acc`
  was changed in place; raise before changing it), ``merge(self, a, b)`` the
  states of two consecutive parts joined, ``emit(self, acc)`` the records to
  emit (an iterable of `record(...)`). The state is any JSON value, kept
  between calls as canonical JSON bytes (numbers come back as floats);
* ``@source class``: ``read(self, max)`` returns up to `max` records (a
  list; empty means `END`), `PENDING` or `END`; ``checkpoint(self)`` a
  position (bytes or str), ``restore(self, position)``; optional
  ``connect`` and ``close``.

A class is instantiated by ``configure``, after the parameters are set, so
its ``__init__`` may read them (and raise `ConfigurationError`). After
``close`` the SDK fails every call with an `IoError`.

**Parameters** are declared once, at module level, with
``param(name, type, default, doc)``: `type` is ``str``, ``int``, ``float``,
``bool`` or any function from the text to a value (raising ValueError);
``minimum=`` bounds numbers; no default (None) makes it required. They feed
``describe`` and ``configure`` (the host's messages for unknown, missing and
invalid parameters), and ``.value`` is the configured value.

**Errors.** Raise `ProcessingError`, `SerializationError`,
`ConfigurationError` or `IoError` (message) in a record function: that
record fails alone, with that kind. Any other exception traps the instance.

**JSON** by the rules every DataFlare guest shares (strict UTF-8, numbers as
doubles): `json_value` and `json_object` decode a record's value (or bytes),
raising `SerializationError`; `to_json` encodes canonically (RFC 8785).
**Logging:** ``log.info(message)`` (also trace, debug, warn, error).
"""

import math
import re
import sys

import dfbatch
import dfjson
import guestkit
import wit_world
from componentize_py_types import Err
from wit_world.imports import log as _wit_log
from wit_world.imports import types

__all__ = [
    "END",
    "PENDING",
    "ConfigurationError",
    "IoError",
    "Param",
    "PluginError",
    "ProcessingError",
    "SerializationError",
    "aggregate",
    "filter",
    "json_object",
    "json_value",
    "log",
    "param",
    "record",
    "sink",
    "source",
    "to_json",
    "transform",
    "world_class",
]


# ---- errors ------------------------------------------------------------------


class PluginError(Err):
    """A WIT `plugin-error`; raise a subclass. In a record function only that record fails.

    It is componentize-py's `Err`, so the SDK's batch helpers and the
    single-record exports report it as the plugin error it carries.
    """

    _case = types.PluginError_Processing

    def __init__(self, message):
        super().__init__(self._case(str(message)))

    def __str__(self):
        return self.value.value


class ProcessingError(PluginError):
    """The record was well formed but could not be processed."""

    _case = types.PluginError_Processing


class SerializationError(PluginError):
    """The record could not be decoded or encoded."""

    _case = types.PluginError_Serialization


class ConfigurationError(PluginError):
    """A parameter is missing or invalid."""

    _case = types.PluginError_Configuration


class IoError(PluginError):
    """Reading or writing outside the plugin failed."""

    _case = types.PluginError_Io


# ---- JSON --------------------------------------------------------------------


def _bytes_of(data):
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    return data.value


def json_value(data):
    """The JSON value of a record's value (or of bytes); `SerializationError` if not JSON."""
    try:
        return dfjson.loads(_bytes_of(data))
    except dfjson.JsonError as exc:
        raise SerializationError(exc.args[0]) from None


def json_object(data):
    """The JSON object of a record's value (or of bytes); `SerializationError` otherwise."""
    try:
        return dfjson.loads_object(_bytes_of(data))
    except dfjson.JsonError as exc:
        raise SerializationError(exc.args[0]) from None


def to_json(value):
    """`value` (dict with str keys, list, str, number, bool, None) as canonical JSON bytes."""
    return dfjson.dumps(value)


def _value_bytes(value):
    """A value as record bytes: bytes as they are, str as UTF-8 text, anything else as JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return to_json(value)


def record(value, key=None, timestamp=None, metadata=()):
    """A new record: `value` as in a transform's return, `key` bytes or str (or None)."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    return types.Record(key, _value_bytes(value), timestamp, list(metadata))


# ---- logging -----------------------------------------------------------------


class _Log:
    """The host's logging (the world's `log` import); lines reach `dataflare.plugin.<name>`."""

    def trace(self, message):
        _wit_log.log(_wit_log.Level.TRACE, str(message))

    def debug(self, message):
        _wit_log.log(_wit_log.Level.DEBUG, str(message))

    def info(self, message):
        _wit_log.log(_wit_log.Level.INFO, str(message))

    def warn(self, message):
        _wit_log.log(_wit_log.Level.WARN, str(message))

    def error(self, message):
        _wit_log.log(_wit_log.Level.ERROR, str(message))


log = _Log()


# ---- parameters --------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?[0-9]+")
_UNSET = object()


def _parse_int(text):
    if not _INTEGER.fullmatch(text):
        raise ValueError("must be an integer")
    return int(text)


def _parse_float(text):
    try:
        number = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if "_" in text or not math.isfinite(number):
        raise ValueError("must be a number")
    return number


def _parse_bool(text):
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError("must be true or false")


_PARSERS = {int: _parse_int, float: _parse_float, bool: _parse_bool, str: str}
_PARAMS = []  # every declared `Param`, in order


class Param:
    """A declared parameter; `.value` is its configured (or default) value."""

    def __init__(self, name, parse, default, doc, minimum):
        self.name = name
        self.doc = doc
        self.minimum = minimum
        self._parse = parse
        if default is None:
            self.default = None
        elif isinstance(default, bool):
            self.default = "true" if default else "false"
        else:
            self.default = str(default)
        try:
            self._value = _UNSET if self.default is None else self.parse(self.default)
        except ValueError as exc:
            raise ValueError(f"parameter {name!r}: the default {self.default!r} {exc}") from None

    @property
    def value(self):
        """The configured value, or the default before `configure`."""
        if self._value is _UNSET:
            raise ConfigurationError(
                f"plugin {_plugin_name()!r}: parameter {self.name!r} is not set"
            )
        return self._value

    def parse(self, text):
        """`text` as this parameter's value; ValueError saying what it must be."""
        value = self._parse(text)
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum}")
        return value

    def info(self):
        """This parameter as the WIT `param-info` that `describe` lists."""
        return types.ParamInfo(self.name, self.doc, self.default is None, self.default)


def param(name, type=str, default=None, doc="", *, minimum=None):
    """Declare parameter `name` (module level): its type, default (None: required) and doc."""
    if any(p.name == name for p in _PARAMS):
        raise ValueError(f"parameter {name!r} is declared twice")
    parse = _PARSERS.get(type, type)
    declared = Param(name, parse, default, doc, minimum)
    _PARAMS.append(declared)
    return declared


def _configure_params(config):
    """Check `config` and set every parameter's value, or raise `ConfigurationError`."""
    name = _plugin_name()
    try:
        guestkit.Params(name, [p.info() for p in _PARAMS]).configure(config)
    except Err as err:
        raise ConfigurationError(err.value.value) from None
    given = dict(config)
    values = []
    for p in _PARAMS:
        text = given.get(p.name, p.default)
        if text is None:
            values.append(_UNSET)
            continue
        try:
            values.append(p.parse(text))
        except ValueError as exc:
            why = str(exc) or "is not valid"
            raise ConfigurationError(
                f"plugin {name!r}: parameter {p.name!r} {why}, got {text!r}"
            ) from None
    for p, value in zip(_PARAMS, values, strict=True):
        p._value = value


# ---- registration ------------------------------------------------------------

_KINDS = {
    "filter": types.PluginKind.FILTER,
    "transform": types.PluginKind.TRANSFORM,
    "aggregate": types.PluginKind.AGGREGATE,
    "source": types.PluginKind.SOURCE,
    "sink": types.PluginKind.SINK,
}
_NEEDS = {"aggregate": ("init", "fold", "merge", "emit"), "source": ("read",), "sink": ("write",)}


class _Plugin:
    """The registered plugin: what it is, and its code (a function or a class)."""

    def __init__(self, kind, code, name, version, description):
        self.kind = kind
        self.code = code
        self.name = name or code.__name__
        self.version = version
        self.description = description if description is not None else _first_line(code)
        self.instance = None  # a class plugin's object, made by configure
        self.closed = False

    def make(self):
        """A new instance of a class plugin (after the parameters are set)."""
        self.instance = self.code() if isinstance(self.code, type) else None
        self.closed = False

    def target(self):
        """What holds the methods: the class's instance, made on first use."""
        if isinstance(self.code, type) and self.instance is None:
            self.make()
        return self.instance

    def method(self, name):
        """A class plugin's method, or None when it does not define it."""
        target = self.target()
        return None if target is None else getattr(target, name, None)

    def check_open(self):
        if self.closed:
            raise IoError(f"plugin {self.name!r} is closed")


_plugin = None


def _first_line(code):
    for doc in (code.__doc__, getattr(sys.modules.get(code.__module__), "__doc__", None)):
        if doc and doc.strip():
            return doc.strip().splitlines()[0]
    return ""


def _plugin_name():
    return _plugin.name if _plugin is not None else "plugin"


def _register(kind, code, name, version, description):
    global _plugin
    if _plugin is not None:
        raise TypeError(
            f"one plugin per module: {_plugin.code.__name__} is already the {_plugin.kind}"
        )
    needs = _NEEDS.get(kind, ())
    if needs and not isinstance(code, type) and kind != "sink":
        raise TypeError(f"@{kind} decorates a class with methods {', '.join(needs)}")
    if isinstance(code, type):
        missing = [m for m in needs if not callable(getattr(code, m, None))]
        if missing:
            raise TypeError(f"@{kind} class {code.__name__} lacks {', '.join(missing)}")
    elif not callable(code):
        raise TypeError(f"@{kind} decorates a function or a class, not {code!r}")
    _plugin = _Plugin(kind, code, name, version, description)
    return code


def _decorator(kind):
    def decorate(code=None, *, name=None, version="0.1.0", description=None):
        if code is None:  # used with arguments: @filter(name=...)
            return lambda c: _register(kind, c, name, version, description)
        return _register(kind, code, name, version, description)

    decorate.__name__ = kind
    decorate.__doc__ = f"Register the module's {kind} plugin (see the module docstring)."
    return decorate


filter = _decorator("filter")
transform = _decorator("transform")
aggregate = _decorator("aggregate")
source = _decorator("source")
sink = _decorator("sink")


# ---- the component's exports -------------------------------------------------


def _result(export):
    """`export` raising a plain `Err`: componentize-py takes no subclass as a result's error."""

    def call(self, *args):
        try:
            return export(self, *args)
        except PluginError as err:
            raise Err(err.value) from None

    call.__name__ = export.__name__
    return call


class _Common(wit_world.WitWorld):
    """`describe` and `configure`, the same for every kind."""

    def describe(self):
        p = _plugin
        infos = [x.info() for x in _PARAMS]
        return types.PluginInfo(p.name, p.version, _KINDS[p.kind], p.description, infos)

    @_result
    def configure(self, config):
        _configure_params(config)
        _plugin.make()


class _Filter(_Common):
    @_result
    def filter(self, record):
        return dfbatch.filter_one(record, _plugin.code)

    def filter_batch(self, records):
        return dfbatch.filter_batch(records, _plugin.code)


def _transformed(record):
    """The author's transform of `record`, as a record-like object."""
    out = _plugin.code(record)
    if isinstance(out, bytes | bytearray | memoryview | str):
        return record.with_value(_value_bytes(out))
    if hasattr(out, "metadata") and hasattr(out, "value"):
        return out
    if out is None:
        raise TypeError(
            f"transform {_plugin.code.__name__} returned None: return the new value "
            "(bytes, str or a JSON value) or a record"
        )
    return record.with_value(to_json(out))


class _Transform(_Common):
    @_result
    def transform(self, record):
        return dfbatch.transform_one(record, _transformed)

    def transform_batch(self, records):
        return dfbatch.transform_batch(records, _transformed)


def _load_state(acc):
    try:
        return dfjson.loads(acc)
    except dfjson.JsonError:
        raise SerializationError("accumulator is not valid JSON") from None


def _folded(acc, record):
    new = _plugin.method("fold")(acc, record)
    return acc if new is None else new


class _Aggregate(_Common):
    def init(self):
        return to_json(_plugin.method("init")())

    @_result
    def aggregate(self, acc, record):
        return to_json(_folded(_load_state(acc), dfbatch.OneRecord(record)))

    def aggregate_batch(self, acc, records):
        n = len(records.values.ends)
        try:
            state = [_load_state(acc)]
        except PluginError as err:
            return types.FoldOutcome(acc, [types.RecordError(i, err.value) for i in range(n)])

        def fold(record):
            state[0] = _folded(state[0], record)

        errors = dfbatch.fold_batch(records, fold)
        if len(errors) == n:
            return types.FoldOutcome(acc, errors)  # nothing folded: the caller's bytes
        return types.FoldOutcome(to_json(state[0]), errors)

    @_result
    def merge(self, a, b):
        first = _load_state(a)
        merged = _plugin.method("merge")(first, _load_state(b))
        return to_json(first if merged is None else merged)

    @_result
    def emit(self, acc):
        return dfbatch.batch_of(list(_plugin.method("emit")(_load_state(acc))))


class _Answer:
    """A source's answer that is not records."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


PENDING = _Answer("PENDING")
"""`read`'s answer when nothing is ready now but more may come."""
END = _Answer("END")
"""`read`'s answer at the end of the stream."""


def _call_optional(name, *args):
    method = _plugin.method(name)
    return None if method is None else method(*args)


class _Lifecycle(_Common):
    """`connect` and `close` for sources and sinks; calls after close fail.

    `dataflare build` builds the lifecycle exports as ``dataflare-<name>``
    (componentize-py cannot link a world export named like a libc function)
    and renames them back, so each also answers to ``dataflare_<name>``.
    """

    @_result
    def connect(self):
        _plugin.check_open()
        _call_optional("connect")

    @_result
    def close(self):
        if not _plugin.closed:
            _plugin.closed = True
            _call_optional("close")

    dataflare_connect = connect
    dataflare_close = close


class _Source(_Lifecycle):
    @_result
    def read(self, max):
        _plugin.check_open()
        out = _plugin.method("read")(max)
        if out is PENDING:
            return types.ReadOutcome_Pending()
        if out is END:
            return types.ReadOutcome_End()
        records = list(out)
        if not records:
            # Nothing for read(0) is not the end: more may come when asked for more.
            return types.ReadOutcome_Pending() if max == 0 else types.ReadOutcome_End()
        if len(records) > max:
            raise ProcessingError(f"read({max}) returned {len(records)} records")
        return types.ReadOutcome_Records(dfbatch.batch_of(records))

    @_result
    def checkpoint(self):
        _plugin.check_open()
        position = _plugin.method("checkpoint")
        if position is None:
            return b""
        return _value_bytes(position())

    @_result
    def restore(self, position):
        _plugin.check_open()
        restore = _plugin.method("restore")
        if restore is None:
            if position:
                raise ProcessingError(f"plugin {_plugin.name!r} cannot restore a position")
            return
        restore(position)

    dataflare_read = read
    dataflare_checkpoint = checkpoint
    dataflare_restore = restore


def _write(record):
    target = _plugin.target()
    (_plugin.code if target is None else target.write)(record)


class _Sink(_Lifecycle):
    @_result
    def write(self, record):
        _plugin.check_open()
        _write(dfbatch.OneRecord(record))

    def write_batch(self, records):
        if _plugin.closed:
            error = IoError(f"plugin {_plugin.name!r} is closed").value
            return [types.RecordError(i, error) for i in range(len(records.values.ends))]
        return dfbatch.write_batch(records, _write)

    @_result
    def flush(self):
        _plugin.check_open()
        _call_optional("flush")

    dataflare_write = write
    dataflare_flush = flush


_WORLDS = {
    "filter": _Filter,
    "transform": _Transform,
    "aggregate": _Aggregate,
    "source": _Source,
    "sink": _Sink,
}


def world_class(kind=None):
    """The `WitWorld` class for the registered plugin; `kind`, when given, must be its kind.

    The module `dataflare build` generates sets ``WitWorld = world_class(KIND)``
    after importing the plugin, so componentize-py finds the exports.
    """
    if _plugin is None:
        raise TypeError(
            "no plugin registered: decorate the plugin with @filter, @transform, "
            "@aggregate, @source or @sink"
        )
    if kind is not None and kind != _plugin.kind:
        raise TypeError(
            f"the plugin {_plugin.code.__name__} is a {_plugin.kind}, "
            f"but the project builds the {kind} world"
        )
    return _WORLDS[_plugin.kind]
