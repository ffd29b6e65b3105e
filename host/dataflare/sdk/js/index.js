// The DataFlare JS guest SDK in one import: typed parameters, one helper per
// plugin kind, JSON and text helpers. A whole filter:
//
//   import * as df from './dataflare/index.js';
//   const min = df.param('min', 'number', 10, 'keep records whose "amount" is above this');
//   export const { describe, configure, filter, filterBatch } = df.filter('amount_min', (record) => {
//     const { amount } = df.jsonObject(record);
//     return typeof amount === 'number' && amount > min.value;
//   });
//
// A kind helper returns every export its WIT world needs; componentize-js
// wants them as named exports of the plugin module, hence the destructuring.
// Per-record logic is written once: the helper derives both the per-record
// export and the columnar batch export from it (batch.js), so they agree on
// every record. Throw a `PluginError` to fail a record; in a batch it fails
// only that record, and any other exception is a bug that traps the call.
import {
  aggregateEach,
  END,
  filterEach,
  PENDING,
  records,
  toBatch,
  transformEach,
  writeEach,
} from './batch.js';
import { canonical, canonicalText, isObject, parseJson, parseObject } from './json.js';
import { byCodePoint, PluginError, validate } from './plugin.js';

export { Batch, BatchBuilder, openBatch, toBatch, END, PENDING } from './batch.js';
export { canonical, canonicalText, parseJson, parseObject, parseText } from './json.js';
export { byCodePoint, PluginError } from './plugin.js';

// ---- Typed parameters -----------------------------------------------------

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** Each type: what a bad value must be (for the message) and its parser (undefined = bad). */
const TYPES = {
  string: ['a string', (text) => text],
  number: ['a number', (text) => (NUMBER.test(text) && Number.isFinite(Number(text)) ? Number(text) : undefined)],
  integer: ['an integer', (text) => (INTEGER.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined)],
  unsigned: [
    'a non-negative integer',
    (text) => (/^\+?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined),
  ],
  boolean: ['true or false', (text) => ({ true: true, false: false })[text]],
};

/** The parameters declared so far, in order (one plugin per module). */
const declared = [];

/** A declared parameter: `value` is its typed value once configured (its default before). */
class Param {
  constructor(name, type, fallback, description) {
    if (!Object.hasOwn(TYPES, type)) {
      throw new TypeError(`parameter '${name}': type must be one of ${Object.keys(TYPES).join(', ')}`);
    }
    this.name = name;
    this.type = type;
    this.default = fallback === undefined ? undefined : String(fallback);
    this.description = description ?? '';
    this.value = undefined;
  }

  /** The WIT `param-info`. */
  info() {
    return {
      name: this.name,
      description: this.description,
      required: this.default === undefined,
      default: this.default,
    };
  }

  /** `text` parsed as this parameter's type; a bad value is a configuration error. */
  parse(plugin, text) {
    const value = TYPES[this.type][1](text);
    if (value === undefined) throw new PluginError('configuration', `plugin '${plugin}': ${this.why(text)}`);
    return value;
  }

  why(text) {
    return `parameter '${this.name}' must be ${TYPES[this.type][0]}, got '${text}'`;
  }
}

/**
 * Declare a parameter: `name`, `type` (string, number, integer, unsigned or
 * boolean), `fallback` (the default; omit it, or pass undefined, for a
 * required parameter) and a one-line `description`. `describe()` lists it
 * and `configure()` checks and parses it; read it as `.value`.
 */
export function param(name, type, fallback, description) {
  const p = new Param(name, type, fallback, description);
  if (declared.some((q) => q.name === name)) throw new TypeError(`parameter '${name}' is declared twice`);
  declared.push(p);
  if (p.default !== undefined) {
    p.value = TYPES[type][1](p.default);
    if (p.value === undefined) throw new TypeError(`the default of ${p.why(p.default)}`);
  }
  return p;
}

/** `describe` and `configure` for plugin `name` of `kind` and its declared parameters. */
function common(kind, name, options) {
  const info = () => ({
    name,
    version: options.version ?? '0.1.0',
    kind,
    description: options.description ?? `A ${kind} plugin.`,
    params: declared.map((p) => p.info()),
  });
  return {
    describe: info,
    configure(config) {
      const given = validate(info(), config);
      // Parse all before setting any, so a failed configure changes nothing.
      const values = declared.map((p) => (given.has(p.name) ? p.parse(name, given.get(p.name)) : undefined));
      declared.forEach((p, i) => {
        p.value = values[i];
      });
      options.configure?.();
    },
  };
}

// ---- Bytes, text and JSON ---------------------------------------------------

/** `text` as UTF-8 bytes. */
export function bytes(text) {
  return encoder.encode(text);
}

/** UTF-8 `data` as a string; bytes that are not UTF-8 are a serialization error. */
export function text(data) {
  try {
    return utf8.decode(data);
  } catch (e) {
    throw new PluginError('serialization', 'bytes are not valid UTF-8');
  }
}

/** The record's value as a JSON object; anything else is a serialization error. */
export function jsonObject(record) {
  return parseObject(record.value);
}

/** The record's value as any JSON value; invalid JSON is a serialization error. */
export function jsonValue(record) {
  return parseJson(record.value);
}

/** `value` as JSON bytes (RFC 8785: compact, keys sorted), e.g. a new record value. */
export function json(value) {
  return canonical(value);
}

/** `value` as compact JSON text (RFC 8785). */
export function jsonText(value) {
  return canonicalText(value);
}

function isBytes(value) {
  return Object.prototype.toString.call(value) === '[object Uint8Array]';
}

/** A record the plugin made: a string key or value becomes its UTF-8 bytes. */
function output(record) {
  const { key, value } = record;
  if (typeof key !== 'string' && typeof value !== 'string') return record;
  return {
    ...record,
    key: typeof key === 'string' ? bytes(key) : key,
    value: typeof value === 'string' ? bytes(value) : value,
  };
}

// ---- One helper per kind ----------------------------------------------------
//
// Each takes the plugin's name, its logic and optional `options`:
// `description`, `version` (default "0.1.0") and `configure()` (called after
// the parameters are set, to check them together or prepare state).

/**
 * A filter from `keep(record) -> boolean`.
 * Exports: describe, configure, filter, filterBatch.
 */
export function filter(name, keep, options = {}) {
  const test = (record) => Boolean(keep(record));
  return { ...common('filter', name, options), filter: test, filterBatch: filterEach(test) };
}

/**
 * A transform from `apply(record) -> record` (e.g. `{...record, value: df.json(obj)}`;
 * a string key or value is taken as UTF-8 text).
 * Exports: describe, configure, transform, transformBatch.
 */
export function transform(name, apply, options = {}) {
  const one = (record) => output(apply(record));
  return { ...common('transform', name, options), transform: one, transformBatch: transformEach(one) };
}

const noop = () => {};

/**
 * Connect and close for a source or sink: the WIT says calls after close
 * fail, so `guard(f)` makes `f` throw an io PluginError once closed. Closing
 * twice is harmless (`hooks.close` runs once).
 */
function lifecycle(name, hooks) {
  let closed = false;
  const guard = (f) => (...args) => {
    if (closed) throw new PluginError('io', `plugin '${name}' is closed`);
    return f(...args);
  };
  return {
    guard,
    connect: guard(hooks.connect ?? noop),
    close() {
      if (closed) return;
      closed = true;
      (hooks.close ?? noop)();
    },
  };
}

/**
 * A sink from `write(record)`; `options` may add `connect()`, `flush()` and `close()`.
 * After close, write, writeBatch, flush and connect fail (an io error).
 * Exports: describe, configure, connect, write, writeBatch, flush, close.
 */
export function sink(name, write, options = {}) {
  const state = lifecycle(name, options);
  const one = state.guard((record) => {
    write(record);
  });
  return {
    ...common('sink', name, options),
    connect: state.connect,
    write: one,
    // After close every record fails: `one` throws the closed error for each.
    writeBatch: writeEach(one),
    flush: state.guard(options.flush ?? noop),
    close: state.close,
  };
}

/**
 * The accumulator's bytes as a JSON value. A top-level object comes without
 * a prototype, so any key (even `__proto__`) is plain data: `acc[key] = n`.
 */
function decodeAccumulator(data) {
  let value;
  try {
    value = parseJson(data);
  } catch (e) {
    throw new PluginError('serialization', 'accumulator is not valid JSON');
  }
  return isObject(value) ? Object.assign(Object.create(null), value) : value;
}

/**
 * An aggregate over a JSON accumulator (the SDK stores it as JSON bytes):
 * `init() -> acc`, `fold(acc, record) -> acc` (it may change `acc` in place,
 * but must throw before changing it: a failed record is not folded in),
 * `merge(a, b) -> acc` (a folded over the earlier part of the stream) and
 * `emit(acc) -> records` (string keys and values are UTF-8 text).
 * Exports: describe, configure, init, aggregate, aggregateBatch, merge, emit.
 */
export function aggregate(name, logic, options = {}) {
  const fold = aggregateEach((acc, record) => logic.fold(acc, record));
  return {
    ...common('aggregate', name, options),
    init: () => json(logic.init()),
    aggregate: (acc, record) => json(logic.fold(decodeAccumulator(acc), record)),
    aggregateBatch(acc, columns) {
      let value;
      try {
        value = decodeAccumulator(acc);
      } catch (e) {
        // No record can be folded into it: each fails, the accumulator stays.
        const errors = Array.from(columns.values.ends, (_, index) => ({ index, error: e.payload }));
        return { accumulator: acc, errors };
      }
      const { accumulator, errors } = fold(value, columns);
      return { accumulator: json(accumulator), errors };
    },
    merge: (a, b) => json(logic.merge(decodeAccumulator(a), decodeAccumulator(b))),
    emit: (acc) => toBatch(logic.emit(decodeAccumulator(acc)).map(output)),
  };
}

/**
 * A source: `read(max)` returns up to `max` records (string keys and values
 * are UTF-8 text), `df.PENDING` when none is ready yet, or `df.END` (an
 * empty list also ends the stream); `checkpoint()` returns the position
 * (string or bytes) and `restore(position)` (bytes) continues from one.
 * `connect()` and `close()` are optional; after close, the other calls fail
 * (an io error).
 * Exports: describe, configure, connect, read, checkpoint, restore, close.
 */
export function source(name, logic, options = {}) {
  const state = lifecycle(name, logic);
  return {
    ...common('source', name, options),
    connect: state.connect,
    read: state.guard((max) => {
      const got = logic.read(max);
      if (got === PENDING || got === END) return got;
      return got.length === 0 ? END : records(got.map(output));
    }),
    checkpoint: state.guard(() => {
      const position = logic.checkpoint();
      return isBytes(position) ? position : bytes(String(position));
    }),
    restore: state.guard((position) => {
      logic.restore(position);
    }),
    close: state.close,
  };
}
