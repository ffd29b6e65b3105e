// Columnar batches of dataflare:plugin@0.2.0 (wit/types.wit), read as one
// record view at a time and written back in the same shape.
//
// A `bytes-column` carries every UTF-8 item in one string with UTF-8 *byte*
// end offsets. A JS string indexes UTF-16 units, so the column is encoded
// once per batch (one C-speed call) and records are `subarray` views into
// those bytes: no copy per record, and offsets mean what the WIT says they
// mean for non-ASCII text too.
import { PluginError } from './plugin.js';

const encoder = new TextEncoder();
// fatal: an item that is not UTF-8 must go to `binary`, not be mangled;
// ignoreBOM: a leading BOM is part of the bytes and must round-trip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NO_BYTES = new Uint8Array(0);

/** A malformed batch: every record of it fails with this error. */
function malformed(message) {
  return new PluginError('serialization', `malformed batch: ${message}`);
}

/** Check that `indices` is strictly increasing and below `n`. */
function checkIndices(indices, n, what) {
  let previous = -1;
  for (const i of indices) {
    if (!Number.isInteger(i) || i <= previous || i >= n) {
      throw malformed(`${what} index ${i} is out of order or not below ${n}`);
    }
    previous = i;
  }
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * `bytes`, with the U+FEFF that componentize-js dropped put back. Its
 * bindings lift every WIT string with a default `TextDecoder`, which strips
 * a leading BOM, so a text whose first record starts with U+FEFF arrives 3
 * bytes short. The ends say how long the text was; a text exactly 3 bytes
 * short can only have lost its BOM (a malformed batch that is 3 bytes short
 * is read as if it had one).
 */
function withLeadingBom(bytes, expected) {
  if (bytes.length + BOM.length !== expected) return bytes;
  const whole = new Uint8Array(expected);
  whole.set(BOM);
  whole.set(bytes, BOM.length);
  return whole;
}

/**
 * Check that `ends` cut `bytes` (UTF-8) into items: in order, within the
 * bytes, the last at their end, none inside a character.
 */
function checkEnds(bytes, ends, what) {
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i];
    if (!(end >= start && end <= bytes.length)) {
      throw malformed(`${what}.ends[${i}] = ${end} is not within ${start}..${bytes.length}`);
    }
    // Each item is UTF-8 on its own (a Rust guest slices a &str here), so
    // an end may not fall inside a character.
    if ((bytes[end] & 0xc0) === 0x80) {
      throw malformed(`${what}.ends[${i}] = ${end} falls inside a UTF-8 character`);
    }
    start = end;
  }
  if (start !== bytes.length) {
    throw malformed(`${what}.ends stops at ${start} but the text has ${bytes.length} bytes`);
  }
}

/**
 * The `count` items of a `string-column`, as JS strings. Its ends count
 * UTF-8 bytes, so the text is encoded once and each item decoded from its
 * bytes; an ASCII text (one byte per UTF-16 unit) is sliced directly.
 */
function stringItems(column, count, what) {
  const { text, ends } = column;
  if (ends.length !== count) {
    throw malformed(`${what}.ends has ${ends.length} entries for ${count} metadata pairs`);
  }
  const encoded = encoder.encode(text);
  const bytes = withLeadingBom(encoded, count > 0 ? ends[count - 1] : 0);
  checkEnds(bytes, ends, what);
  const items = new Array(count);
  let start = 0;
  // A text that got its BOM back is longer than the string: decode it.
  const ascii = bytes === encoded && encoded.length === text.length;
  for (let i = 0; i < count; i++) {
    const end = ends[i];
    items[i] = ascii ? text.slice(start, end) : utf8.decode(bytes.subarray(start, end));
    start = end;
  }
  return items;
}

/** A read-only view of one `bytes-column` of `n` records. */
class BytesColumnView {
  constructor(column, n, what, mayBeAbsent) {
    const { ends } = column;
    if (ends.length !== n) {
      throw malformed(`${what}.ends has ${ends.length} entries for ${n} records`);
    }
    this.bytes = withLeadingBom(encoder.encode(column.text), n > 0 ? ends[n - 1] : 0);
    this.ends = ends;
    checkEnds(this.bytes, ends, what);
    // Sparse by design: most batches have neither, so lookups stay one
    // `size` check per record.
    this.binary = new Map();
    checkIndices(column.binary.map(([i]) => i), n, `${what}.binary`);
    for (const [i, bytes] of column.binary) {
      this.checkEmpty(i, `${what}.binary`);
      this.binary.set(i, bytes);
    }
    this.absent = new Set();
    if (column.absent.length > 0 && !mayBeAbsent) {
      throw malformed(`${what}.absent must be empty`);
    }
    checkIndices(column.absent, n, `${what}.absent`);
    for (const i of column.absent) {
      this.checkEmpty(i, `${what}.absent`);
      if (this.binary.has(i)) throw malformed(`record ${i} is both binary and absent in ${what}`);
      this.absent.add(i);
    }
    // Neither binary nor absent items: every item is a plain span.
    this.plain = this.binary.size === 0 && this.absent.size === 0;
  }

  checkEmpty(i, what) {
    if (this.start(i) !== this.ends[i]) throw malformed(`${what} record ${i} has a non-empty span`);
  }

  start(i) {
    return i === 0 ? 0 : this.ends[i - 1];
  }

  /** Record i's bytes (a view, not a copy), or undefined when absent. */
  item(i) {
    if (this.binary.size > 0 && this.binary.has(i)) return this.binary.get(i);
    if (this.absent.size > 0 && this.absent.has(i)) return undefined;
    return this.bytes.subarray(this.start(i), this.ends[i]);
  }
}

/**
 * A columnar `batch` read one record at a time. Construction validates every
 * offset and index, and throws a serialization PluginError on a malformed
 * batch. Batch-aware plugins may read `values`, `keys` (their `bytes`,
 * `ends`, `item(i)`), `timestamps` and `columns` (the WIT batch) directly.
 */
export class Batch {
  constructor(columns) {
    this.columns = columns;
    const n = columns.values.ends.length;
    this.length = n;
    this.values = new BytesColumnView(columns.values, n, 'values', false);
    this.keys = columns.keys === undefined ? undefined : new BytesColumnView(columns.keys, n, 'keys', true);
    this.timestamps = undefined;
    if (columns.timestamps !== undefined) {
      const { values, absent } = columns.timestamps;
      if (values.length !== n) {
        throw malformed(`timestamps has ${values.length} values for ${n} records`);
      }
      checkIndices(absent, n, 'timestamps.absent');
      this.timestamps = { values, absent: new Set(absent) };
    }
    // Pair j of the metadata: record metaRecords[j], metaNames[j], metaValues[j].
    const { records } = columns.metadata;
    const count = records.length;
    let previous = 0;
    for (const r of records) {
      if (!Number.isInteger(r) || r < previous || r >= n) {
        throw malformed(`metadata record ${r} is out of order or not below ${n}`);
      }
      previous = r;
    }
    this.metaRecords = records;
    this.metaNames = stringItems(columns.metadata.names, count, 'metadata.names');
    this.metaValues = stringItems(columns.metadata.values, count, 'metadata.values');
    // metaEnds[i]: where record i's pairs end; undefined when there are none.
    this.metaEnds = undefined;
    if (count > 0) {
      this.metaEnds = new Uint32Array(n);
      for (const r of records) this.metaEnds[r] += 1;
      for (let i = 1; i < n; i++) this.metaEnds[i] += this.metaEnds[i - 1];
    }
  }

  /** Record i's value bytes (a view into the batch). */
  value(i) {
    return this.values.item(i);
  }

  /** Record i's key bytes, or undefined. */
  key(i) {
    return this.keys === undefined ? undefined : this.keys.item(i);
  }

  /** Record i's timestamp (a BigInt), or undefined. */
  timestamp(i) {
    const t = this.timestamps;
    if (t === undefined || (t.absent.size > 0 && t.absent.has(i))) return undefined;
    return t.values[i];
  }

  /** Record i's metadata as [name, value] pairs, in order (a fresh array). */
  metadata(i) {
    if (this.metaEnds === undefined) return [];
    const start = i === 0 ? 0 : this.metaEnds[i - 1];
    const pairs = [];
    for (let j = start; j < this.metaEnds[i]; j++) pairs.push([this.metaNames[j], this.metaValues[j]]);
    return pairs;
  }

  /**
   * Record i in the shape the per-record exports receive: `{key, value,
   * timestamp, metadata}` (Uint8Array views, a BigInt, [name, value] pairs,
   * undefined for a missing option). A plain object, so `{...record}` works.
   */
  record(i) {
    return {
      key: this.key(i),
      value: this.value(i),
      timestamp: this.timestamp(i),
      metadata: this.metadata(i),
    };
  }

  /**
   * Call `visit(record, i)` for every record in order, with the same views
   * `record(i)` gives. Faster than `record(i)` in a loop: StarlingMonkey
   * interprets (no JIT), so each call and lookup saved per record counts.
   */
  forEach(visit) {
    const n = this.length;
    const values = this.values;
    const bytes = values.bytes;
    const ends = values.ends;
    const keys = this.keys;
    const stamps = this.timestamps === undefined ? undefined : this.timestamps.values;
    const noStamp = this.timestamps === undefined ? undefined : this.timestamps.absent;
    const metaRecords = this.metaRecords;
    const names = this.metaNames;
    const metaValues = this.metaValues;
    const pairs = metaRecords.length;
    let start = 0;
    let entry = 0;
    for (let i = 0; i < n; i++) {
      const end = ends[i];
      const value = values.plain ? bytes.subarray(start, end) : values.item(i);
      start = end;
      let timestamp;
      if (stamps !== undefined && !(noStamp.size > 0 && noStamp.has(i))) timestamp = stamps[i];
      const metadata = [];
      while (entry < pairs && metaRecords[entry] === i) {
        metadata.push([names[entry], metaValues[entry]]);
        entry++;
      }
      visit({ key: keys === undefined ? undefined : keys.item(i), value, timestamp, metadata }, i);
    }
  }

  *[Symbol.iterator]() {
    for (let i = 0; i < this.length; i++) yield this.record(i);
  }
}

/**
 * A Uint8Array from any realm: componentize-js lifts `list<u8>` with another
 * realm's Uint8Array, so `instanceof Uint8Array` is false for those.
 */
function isBytes(value) {
  return Object.prototype.toString.call(value) === '[object Uint8Array]';
}

/** Collects byte items (undefined = absent) into one `bytes-column`. */
class BytesColumnBuilder {
  constructor() {
    this.items = [];
    this.present = 0;
  }

  push(bytes) {
    if (bytes !== undefined && !isBytes(bytes)) {
      throw new TypeError('record bytes must be a Uint8Array');
    }
    this.items.push(bytes);
    if (bytes !== undefined) this.present += 1;
  }

  finish() {
    const items = this.items;
    let total = 0;
    for (const b of items) if (b !== undefined) total += b.length;
    const joined = new Uint8Array(total);
    const ends = new Uint32Array(items.length);
    const absent = [];
    let at = 0;
    items.forEach((b, i) => {
      if (b === undefined) absent.push(i);
      else {
        joined.set(b, at);
        at += b.length;
      }
      ends[i] = at;
    });
    // One decode for the whole column; valid UTF-8 cut where no item starts
    // with a continuation byte is valid item by item.
    let text;
    try {
      text = utf8.decode(joined);
    } catch (e) {
      text = undefined;
    }
    if (text !== undefined && splitsNoCharacter(joined, ends)) {
      return { text, ends, binary: [], absent };
    }
    return perItem(items, absent);
  }
}

function splitsNoCharacter(bytes, ends) {
  for (const end of ends) {
    if (end < bytes.length && (bytes[end] & 0xc0) === 0x80) return false;
  }
  return true;
}

/** The slow path: some item is not UTF-8 on its own; it goes to `binary`. */
function perItem(items, absent) {
  const parts = [];
  const ends = new Uint32Array(items.length);
  const binary = [];
  let at = 0;
  items.forEach((b, i) => {
    if (b !== undefined && b.length > 0) {
      let s;
      try {
        s = utf8.decode(b);
      } catch (e) {
        s = undefined;
      }
      if (s === undefined) binary.push([i, b]);
      else {
        parts.push(s);
        at += b.length;
      }
    }
    ends[i] = at;
  });
  return { text: parts.join(''), ends, binary, absent };
}

const ASCII = /^[\x00-\x7f]*$/;

/** JS strings as one `string-column`, its ends in UTF-8 bytes. */
function stringColumn(items) {
  const text = items.join('');
  const ends = new Uint32Array(items.length);
  let at = 0;
  if (ASCII.test(text)) {
    items.forEach((s, i) => {
      at += s.length;
      ends[i] = at;
    });
    return { text, ends };
  }
  // Each item encoded on its own, as the per-record export lowers it: a lone
  // surrogate becomes U+FFFD, and two halves of a pair in neighbouring items
  // stay two U+FFFD instead of joining into one character across an end.
  const parts = items.map((s) => encoder.encode(s));
  const joined = new Uint8Array(parts.reduce((total, b) => total + b.length, 0));
  parts.forEach((b, i) => {
    joined.set(b, at);
    at += b.length;
    ends[i] = at;
  });
  return { text: utf8.decode(joined), ends };
}

/** Builds an output `batch` record by record. */
export class BatchBuilder {
  constructor() {
    this.values = new BytesColumnBuilder();
    this.keys = new BytesColumnBuilder();
    this.stamps = [];
    this.stampAbsent = [];
    this.metaRecords = [];
    this.metaNames = [];
    this.metaValues = [];
  }

  get length() {
    return this.stamps.length;
  }

  /** Append `{value, key?, timestamp?, metadata?}` (value: Uint8Array). */
  push(record) {
    const i = this.length;
    if (!isBytes(record.value)) {
      throw new TypeError('record.value must be a Uint8Array');
    }
    this.values.push(record.value);
    this.keys.push(record.key === null ? undefined : record.key);
    if (record.timestamp === undefined || record.timestamp === null) {
      this.stampAbsent.push(i);
      this.stamps.push(0n);
    } else {
      const t = BigInt(record.timestamp);
      // BigInt64Array.from would wrap an out-of-range value silently.
      if (BigInt.asIntN(64, t) !== t) throw new RangeError(`timestamp ${t} is not an s64`);
      this.stamps.push(t);
    }
    for (const [name, value] of record.metadata ?? []) {
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new TypeError('metadata names and values must be strings');
      }
      this.metaRecords.push(i);
      this.metaNames.push(name);
      this.metaValues.push(value);
    }
  }

  /** Append the empty record that holds a failed record's place. */
  pushPlaceholder() {
    this.push({ value: NO_BYTES });
  }

  /** The WIT `batch`. */
  finish() {
    const n = this.length;
    return {
      values: this.values.finish(),
      keys: this.keys.present > 0 ? this.keys.finish() : undefined,
      timestamps:
        this.stampAbsent.length < n
          ? { values: BigInt64Array.from(this.stamps), absent: Uint32Array.from(this.stampAbsent) }
          : undefined,
      metadata: {
        records: Uint32Array.from(this.metaRecords),
        names: stringColumn(this.metaNames),
        values: stringColumn(this.metaValues),
      },
    };
  }
}

/** A WIT `batch` holding `records` (e.g. what `emit` or a source's `read` returns). */
export function toBatch(records) {
  const builder = new BatchBuilder();
  for (const r of records) builder.push(r);
  return builder.finish();
}

// ---- Per-record plugin code run over a batch -----------------------------
//
// Each helper below turns the function a per-record export calls into the
// matching batch export, so both give the same outcome for every record.
// A PluginError fails only its record; any other exception is a bug and
// traps, as it does in the per-record export.

function recordError(index, e) {
  if (e instanceof PluginError) return { index, error: e.payload };
  throw e;
}

/** Every record of an `n`-record batch failing with `e`. */
function allFailed(n, e) {
  return Array.from({ length: n }, (_, i) => recordError(i, e));
}

/**
 * `{batch, errors}`: `columns` read as a `Batch` and no errors, or, when the
 * batch is malformed, `batch` undefined and the error for every record.
 */
export function openBatch(columns) {
  try {
    return { batch: new Batch(columns), errors: [] };
  } catch (e) {
    return { batch: undefined, errors: allFailed(columns.values.ends.length, e) };
  }
}

/** `filter-batch` from `keep(record) -> bool`: a bitmap, LSB first, and sparse errors. */
export function filterEach(keep) {
  return (columns) => {
    const n = columns.values.ends.length;
    const bits = new Uint8Array((n + 7) >> 3);
    const { batch, errors } = openBatch(columns);
    if (batch === undefined) return { keep: bits, errors };
    batch.forEach((record, i) => {
      try {
        if (keep(record)) bits[i >> 3] |= 1 << (i & 7);
      } catch (e) {
        errors.push(recordError(i, e));
      }
    });
    return { keep: bits, errors };
  };
}

/** `transform-batch` from `apply(record) -> record`; placeholders keep positions. */
export function transformEach(apply) {
  return (columns) => {
    const n = columns.values.ends.length;
    const out = new BatchBuilder();
    const { batch, errors } = openBatch(columns);
    if (batch === undefined) {
      for (let i = 0; i < n; i++) out.pushPlaceholder();
      return { records: out.finish(), errors };
    }
    batch.forEach((record, i) => {
      let result;
      try {
        result = apply(record);
      } catch (e) {
        errors.push(recordError(i, e));
        out.pushPlaceholder();
        return;
      }
      out.push(result);
    });
    return { records: out.finish(), errors };
  };
}

/** `write-batch` from `write(record)`: the records that failed. */
export function writeEach(write) {
  return (columns) => {
    const { batch, errors } = openBatch(columns);
    if (batch === undefined) return errors;
    batch.forEach((record, i) => {
      try {
        write(record);
      } catch (e) {
        errors.push(recordError(i, e));
      }
    });
    return errors;
  };
}

/**
 * `aggregate-batch` from `fold(acc, record) -> acc`: a failed record is not
 * folded in. `merge` and `emit` are the plugin's own exports.
 */
export function aggregateEach(fold) {
  return (accumulator, columns) => {
    const { batch, errors } = openBatch(columns);
    if (batch === undefined) return { accumulator, errors };
    let acc = accumulator;
    batch.forEach((record, i) => {
      try {
        acc = fold(acc, record);
      } catch (e) {
        errors.push(recordError(i, e));
      }
    });
    return { accumulator: acc, errors };
  };
}

// ---- Source outcomes ------------------------------------------------------

/** `read` found records (at least one). */
export function records(list) {
  if (list.length === 0) throw new RangeError('records() needs at least one record; return PENDING or END');
  return { tag: 'records', val: toBatch(list) };
}

/** `read` found nothing now; the host asks again later. */
export const PENDING = Object.freeze({ tag: 'pending' });

/** `read` reached the end of the stream. */
export const END = Object.freeze({ tag: 'end' });
