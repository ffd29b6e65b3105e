// Unit tests of host/dataflare/sdk/js/batch.js, run by node's own test runner
// (`node --test guest-examples/js/test/`; tests/guests_js/test_js_sdk.py runs them).
// End-to-end checks through real components are in tests/guests_js/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import {
  aggregateEach,
  Batch,
  END,
  filterEach,
  openBatch,
  PENDING,
  records,
  toBatch,
  transformEach,
  writeEach,
} from '../../../host/dataflare/sdk/js/batch.js';
import { PluginError } from '../../../host/dataflare/sdk/js/plugin.js';

const enc = (s) => new TextEncoder().encode(s);
const bytes = (...b) => Uint8Array.from(b);

/** A `string-column` of `items` as lifted: ends in UTF-8 bytes. */
function strings(items) {
  let at = 0;
  return { text: items.join(''), ends: Uint32Array.from(items, (s) => (at += enc(s).length)) };
}

/** `[record, name, value]` triples as a lifted `metadata-column`. */
function metaColumn(triples) {
  return {
    records: Uint32Array.from(triples, ([r]) => r),
    names: strings(triples.map(([, n]) => n)),
    values: strings(triples.map(([, , v]) => v)),
  };
}

/**
 * A WIT batch as componentize-js lifts it (typed arrays for numeric lists);
 * `metadata` is `[record, name, value]` triples, or `meta` the column itself.
 */
function lifted({ text, ends, binary = [], absent = [], keys, timestamps, metadata = [], meta }) {
  return {
    values: { text, ends: Uint32Array.from(ends), binary, absent: Uint32Array.from(absent) },
    keys:
      keys === undefined
        ? undefined
        : {
            text: keys.text,
            ends: Uint32Array.from(keys.ends),
            binary: keys.binary ?? [],
            absent: Uint32Array.from(keys.absent ?? []),
          },
    timestamps:
      timestamps === undefined
        ? undefined
        : {
            values: BigInt64Array.from(timestamps.values),
            absent: Uint32Array.from(timestamps.absent),
          },
    metadata: meta ?? metaColumn(metadata),
  };
}

const asData = (r) => ({
  key: r.key === undefined ? undefined : [...r.key],
  value: [...r.value],
  timestamp: r.timestamp,
  metadata: r.metadata,
});

/** Records as plain data, for deepEqual; `forEach` and `record(i)` must agree. */
function plain(batch) {
  const view = new Batch(batch);
  const visited = [];
  view.forEach((r, i) => visited.push({ i, ...asData(r) }));
  assert.deepEqual(visited, [...view].map((r, i) => ({ i, ...asData(r) })));
  return [...view].map(asData);
}

test('offsets are UTF-8 bytes, not UTF-16 units', () => {
  // 'é' is 2 bytes and 1 unit; '😀' 4 bytes and 2 units.
  const b = new Batch(lifted({ text: 'é😀ab', ends: [2, 6, 6, 8] }));
  assert.equal(b.length, 4);
  assert.deepEqual([...b.value(0)], [...enc('é')]);
  assert.deepEqual([...b.value(1)], [...enc('😀')]);
  assert.deepEqual([...b.value(2)], []);
  assert.deepEqual([...b.value(3)], [...enc('ab')]);
  // Views share one buffer: no copy per record.
  assert.equal(b.value(0).buffer, b.value(3).buffer);
});

test('binary values, absent keys, timestamps and metadata are read by index', () => {
  const b = lifted({
    text: 'ab',
    ends: [1, 1, 2],
    binary: [[1, bytes(0xff, 0x00)]],
    keys: { text: 'k', ends: [0, 1, 1], absent: [0], binary: [[2, bytes(0xc3)]] },
    timestamps: { values: [0n, -(2n ** 63n), 7n], absent: [0] },
    metadata: [
      [1, 'a', '1'],
      [1, 'a', '2'],
      [2, 'ü', '😀'],
    ],
  });
  assert.deepEqual(plain(b), [
    { key: undefined, value: [0x61], timestamp: undefined, metadata: [] },
    { key: [0x6b], value: [0xff, 0x00], timestamp: -(2n ** 63n), metadata: [['a', '1'], ['a', '2']] },
    { key: [0xc3], value: [0x62], timestamp: 7n, metadata: [['ü', '😀']] },
  ]);
});

test('a built batch reads back as the records it was built from', () => {
  const input = [
    { value: enc('héllo'), key: bytes(0xff), timestamp: 5n, metadata: [['x', 'y']] },
    { value: bytes(0xc3), metadata: [] }, // half a character: binary
    { value: bytes(0xa9), key: enc('k') }, // the other half: binary too
    { value: enc('\ufeff{}'), timestamp: -1n }, // a BOM survives
    { value: new Uint8Array(0) },
  ];
  const batch = toBatch(input);
  assert.deepEqual(batch.values.binary.map(([i]) => i), [1, 2]);
  assert.equal(batch.values.text, 'héllo\ufeff{}');
  assert.deepEqual([...batch.values.ends], [6, 6, 6, 11, 11]);
  assert.deepEqual(batch.keys.binary.map(([i]) => i), [0]);
  assert.deepEqual([...batch.keys.absent], [1, 3, 4]);
  assert.deepEqual([...batch.timestamps.absent], [1, 2, 4]);
  assert.deepEqual(
    plain(batch),
    input.map((r) => ({
      key: r.key === undefined ? undefined : [...r.key],
      value: [...r.value],
      timestamp: r.timestamp,
      metadata: r.metadata ?? [],
    })),
  );
});

test('a leading U+FEFF dropped by the string lift is put back from the ends', () => {
  // componentize-js lifts strings with a BOM-stripping TextDecoder: the
  // host sent '\ufeff{}' + 'a' with ends [5, 6]; the guest sees '{}a'.
  const b = new Batch(lifted({ text: '{}a', ends: [5, 6], keys: { text: 'k', ends: [0, 4] } }));
  assert.deepEqual([...b.value(0)], [0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
  assert.deepEqual([...b.value(1)], [0x61]);
  assert.deepEqual([...b.key(1)], [0xef, 0xbb, 0xbf, 0x6b]);
});

test('a leading U+FEFF dropped from metadata names or values is put back too', () => {
  // The host sent names '\ufeffn' + 'm' (ends [4, 5]) and values '\ufeff' + 'é'.
  const meta = {
    records: Uint32Array.from([0, 1]),
    names: { text: 'nm', ends: Uint32Array.from([4, 5]) },
    values: { text: 'é', ends: Uint32Array.from([3, 5]) },
  };
  const b = new Batch(lifted({ text: 'ab', ends: [1, 2], meta }));
  assert.deepEqual(b.metadata(0), [['\ufeffn', '\ufeff']]);
  assert.deepEqual(b.metadata(1), [['m', 'é']]);
});

test('metadata offsets are UTF-8 bytes: built ends count bytes, reads slice by them', () => {
  const batch = toBatch([
    { value: enc('a'), metadata: [['é', '😀'], ['x', '']] },
    { value: enc('b') },
    { value: enc('c'), metadata: [['ab', 'ü']] },
  ]);
  assert.deepEqual([...batch.metadata.records], [0, 0, 2]);
  assert.deepEqual(batch.metadata.names, { text: 'éxab', ends: Uint32Array.from([2, 3, 5]) });
  assert.deepEqual(batch.metadata.values, { text: '😀ü', ends: Uint32Array.from([4, 4, 6]) });
  assert.deepEqual(plain(batch).map((r) => r.metadata), [[['é', '😀'], ['x', '']], [], [['ab', 'ü']]]);
});

test('lone surrogates in metadata become U+FFFD each, as the per-record lowering makes them', () => {
  // Two halves of one pair in neighbouring names must not join across the end.
  const batch = toBatch([{ value: enc(''), metadata: [['a\ud83d', 'v'], ['\ude00b', 'w']] }]);
  assert.deepEqual(batch.metadata.names, { text: 'a\ufffd\ufffdb', ends: Uint32Array.from([4, 8]) });
  assert.deepEqual(new Batch(batch).metadata(0), [['a\ufffd', 'v'], ['\ufffdb', 'w']]);
});

test('metadata names and values that are not strings are a bug (a trap), not mangled', () => {
  assert.throws(() => toBatch([{ value: enc(''), metadata: [['n', 1]] }]), TypeError);
  assert.throws(() => toBatch([{ value: enc(''), metadata: [[undefined, 'v']] }]), TypeError);
});

test('bytes lifted in another realm pass through (componentize-js lifts list<u8> there)', () => {
  const foreign = runInNewContext('new Uint8Array([0x80, 0x41])');
  assert.equal(foreign instanceof Uint8Array, false);
  const out = transformEach((r) => r)(
    lifted({ text: '', ends: [0], binary: [[0, foreign]], keys: { text: '', ends: [0], binary: [[0, foreign]] } }),
  );
  assert.deepEqual(out.errors, []);
  assert.deepEqual(plain(out.records), [
    { key: [0x80, 0x41], value: [0x80, 0x41], timestamp: undefined, metadata: [] },
  ]);
});

test('a batch without keys or timestamps leaves those columns out', () => {
  const batch = toBatch([{ value: enc('a') }, { value: enc('b') }]);
  assert.equal(batch.keys, undefined);
  assert.equal(batch.timestamps, undefined);
  assert.deepEqual([...batch.metadata.records], []);
  assert.deepEqual(batch.metadata.names, { text: '', ends: new Uint32Array(0) });
  assert.deepEqual(batch.metadata.values, { text: '', ends: new Uint32Array(0) });
});

const BAD = {
  'an end past the text': { text: 'ab', ends: [1, 3] },
  'decreasing ends': { text: 'ab', ends: [2, 1] },
  'ends short of the text': { text: 'abc', ends: [1, 2] },
  'an end past a non-ASCII text (counted in bytes, not units)': { text: 'é', ends: [3] },
  'an end inside a UTF-8 character': { text: 'é', ends: [1, 2] },
  'a binary record with a span': { text: 'ab', ends: [1, 2], binary: [[0, bytes(0xff)]] },
  'binary out of order': { text: '', ends: [0, 0], binary: [[1, bytes(1)], [0, bytes(2)]] },
  'a binary index past the batch': { text: '', ends: [0], binary: [[1, bytes(1)]] },
  'an absent value': { text: '', ends: [0], absent: [0] },
  'keys of another length': { text: 'a', ends: [1], keys: { text: '', ends: [0, 0] } },
  'timestamps of another length': { text: 'a', ends: [1], timestamps: { values: [], absent: [] } },
  'metadata past the batch': { text: 'a', ends: [1], metadata: [[1, 'n', 'v']] },
  'metadata out of order': { text: 'ab', ends: [1, 2], metadata: [[1, 'n', 'v'], [0, 'n', 'v']] },
  'fewer metadata names than pairs': {
    text: 'a',
    ends: [1],
    meta: { records: [0, 0], names: strings(['n']), values: strings(['v', 'w']) },
  },
  'more metadata values than pairs': {
    text: 'a',
    ends: [1],
    meta: { records: [0], names: strings(['n']), values: strings(['v', 'w']) },
  },
  'metadata names past their text': {
    text: 'a',
    ends: [1],
    meta: { records: [0], names: { text: 'n', ends: [2] }, values: strings(['v']) },
  },
  'metadata values short of their text': {
    text: 'a',
    ends: [1],
    meta: { records: [0, 0], names: strings(['n', 'm']), values: { text: 'vw', ends: [1, 1] } },
  },
  'metadata name ends decreasing': {
    text: 'a',
    ends: [1],
    meta: { records: [0, 0], names: { text: 'nm', ends: [2, 1] }, values: strings(['v', 'w']) },
  },
  'a metadata end inside a UTF-8 character': {
    text: 'a',
    ends: [1],
    meta: { records: [0, 0], names: strings(['n', 'm']), values: { text: 'é', ends: [1, 2] } },
  },
  'metadata ends in UTF-16 units': {
    text: 'a',
    ends: [1],
    meta: { records: [0, 0], names: { text: 'üx', ends: [1, 2] }, values: strings(['v', 'w']) },
  },
  'metadata text without pairs': {
    text: 'a',
    ends: [1],
    meta: { records: [], names: { text: 'n', ends: [] }, values: strings([]) },
  },
};

for (const [what, shape] of Object.entries(BAD)) {
  test(`a malformed batch fails every record, never traps: ${what}`, () => {
    const b = lifted(shape);
    const n = shape.ends.length;
    const want = Array.from({ length: n }, (_, index) => index);
    const f = filterEach(() => true)(b);
    assert.deepEqual(f.errors.map((e) => e.index), want);
    assert.equal(f.errors[0].error.tag, 'serialization');
    assert.match(f.errors[0].error.val, /^malformed batch: /);
    assert.deepEqual([...f.keep], Array((n + 7) >> 3).fill(0));
    const t = transformEach((r) => r)(b);
    assert.deepEqual(t.errors.map((e) => e.index), want);
    assert.deepEqual([...t.records.values.ends], Array(n).fill(0));
    assert.deepEqual(writeEach(() => {})(b).map((e) => e.index), want);
    const acc = bytes(1, 2);
    const fold = aggregateEach(() => bytes(9))(acc, b);
    assert.equal(fold.accumulator, acc);
    assert.deepEqual(fold.errors.map((e) => e.index), want);
  });
}

test('metadata in an empty batch is malformed, with no record to fail', () => {
  const b = lifted({ text: '', ends: [], metadata: [[0, 'n', 'v']] });
  assert.throws(() => new Batch(b), (e) => e instanceof PluginError && /metadata record 0/.test(e.payload.val));
  assert.deepEqual(filterEach(() => true)(b), { keep: new Uint8Array(0), errors: [] });
});

test('filter: bitmap LSB first, errors sparse, a failed record never kept', () => {
  const values = ['k', 'd', 'k', 'e', 'k', 'd', 'd', 'd', 'k', 'e'];
  const ends = values.map((_, i) => i + 1);
  const out = filterEach((r) => {
    const c = String.fromCharCode(r.value[0]);
    if (c === 'e') throw new PluginError('processing', 'boom');
    return c === 'k';
  })(lifted({ text: values.join(''), ends }));
  assert.deepEqual([...out.keep], [0b00010101, 0b00000001]);
  assert.deepEqual(out.errors, [
    { index: 3, error: { tag: 'processing', val: 'boom' } },
    { index: 9, error: { tag: 'processing', val: 'boom' } },
  ]);
});

test('transform: a failed record leaves an empty placeholder in its place', () => {
  const out = transformEach((r) => {
    if (r.value.length === 0) throw new PluginError('serialization', 'empty');
    return { ...r, value: enc(new TextDecoder().decode(r.value).toUpperCase()) };
  })(lifted({ text: 'aé', ends: [1, 1, 3], keys: { text: 'xy', ends: [1, 1, 2] } }));
  assert.deepEqual(out.errors, [{ index: 1, error: { tag: 'serialization', val: 'empty' } }]);
  assert.deepEqual(plain(out.records), [
    { key: [...enc('x')], value: [...enc('A')], timestamp: undefined, metadata: [] },
    { key: undefined, value: [], timestamp: undefined, metadata: [] },
    { key: [...enc('y')], value: [...enc('É')], timestamp: undefined, metadata: [] },
  ]);
});

test('an exception that is not a PluginError is a bug and propagates (a trap)', () => {
  const b = lifted({ text: 'a', ends: [1] });
  assert.throws(() => filterEach(() => { throw new TypeError('bug'); })(b), TypeError);
});

test('aggregate: failed records are not folded in', () => {
  const sum = aggregateEach((acc, r) => {
    if (r.value[0] === 0x78) throw new PluginError('processing', 'x');
    return bytes(acc[0] + r.value[0] - 0x30);
  });
  const out = sum(bytes(0), lifted({ text: '1x2', ends: [1, 2, 3] }));
  assert.deepEqual([...out.accumulator], [3]);
  assert.deepEqual(out.errors.map((e) => e.index), [1]);
});

test('source outcomes: records, pending and end are distinct', () => {
  const r = records([{ value: enc('a') }]);
  assert.equal(r.tag, 'records');
  assert.equal(r.val.values.text, 'a');
  assert.equal(PENDING.tag, 'pending');
  assert.equal(END.tag, 'end');
  assert.throws(() => records([]), RangeError);
});

test('an out-of-range timestamp is refused rather than wrapped', () => {
  assert.throws(() => toBatch([{ value: enc(''), timestamp: 2n ** 63n }]), RangeError);
});

// The batch-aware example of README.md, verbatim.
function longValues(columns) {
  // On a malformed batch: no batch, and an error for every record.
  const { batch, errors } = openBatch(columns);
  const keep = new Uint8Array((columns.values.ends.length + 7) >> 3);
  if (batch === undefined) return { keep, errors };
  const { ends, binary } = batch.values;
  let start = 0;
  ends.forEach((end, i) => {
    const size = binary.has(i) ? binary.get(i).length : end - start;
    if (size > 10) keep[i >> 3] |= 1 << (i & 7);
    start = end;
  });
  return { keep, errors };
}

test("the README's batch-aware filter agrees with filterEach on the same rule", () => {
  const values = ['short', 'ééééééé', 'a'.repeat(11), '', 'x'];
  const binary = [[4, new Uint8Array(12).fill(0xff)]];
  const b = lifted({
    text: values.slice(0, 4).join(''),
    ends: [5, 19, 30, 30, 30],
    binary,
  });
  const want = filterEach((r) => r.value.length > 10)(b);
  assert.deepEqual(longValues(b), want);
  assert.deepEqual([...want.keep], [0b10110]);
  const bad = lifted({ text: 'ab', ends: [3] });
  assert.deepEqual(longValues(bad), filterEach((r) => r.value.length > 10)(bad));
});

// A small deterministic PRNG (mulberry32), so a failure reproduces.
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Byte strings that stress the builder: UTF-8 of every width, a BOM, bare
// continuation bytes, lead bytes without their continuation, invalid bytes.
// (0xed 0xa0 0x80 would be U+D800, a surrogate: not UTF-8.)
const PIECES = [
  [0x61], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xef, 0xbb, 0xbf],
  [0x80], [0xc3], [0xff], [0xed, 0xa0, 0x80], [],
];

test('any records survive toBatch and reading back (500 seeded random batches)', () => {
  const random = prng(13);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const bytesOf = () => Uint8Array.from(Array.from({ length: Math.floor(random() * 4) }, () => pick(PIECES)).flat());
  const pair = () => [pick(['a', 'é', '', '\ufeffn']), pick(['1', '😀', '\ufeff'])];
  for (let round = 0; round < 500; round++) {
    const input = Array.from({ length: Math.floor(random() * 12) }, () => ({
      value: bytesOf(),
      key: random() < 0.4 ? undefined : bytesOf(),
      timestamp: random() < 0.5 ? undefined : BigInt(Math.floor(random() * 2 ** 53)) * (random() < 0.5 ? -1n : 1n),
      metadata: Array.from({ length: Math.floor(random() * 3) }, pair),
    }));
    const batch = toBatch(input);
    const want = input.map(asData);
    assert.deepEqual(plain(batch), want, `round ${round}`);
    // What the host reads: each text item is UTF-8 on its own, the last
    // end at the end of the text.
    for (const column of [batch.values, batch.metadata.names, batch.metadata.values]) {
      const text = enc(column.text);
      let start = 0;
      for (const end of column.ends) {
        new TextDecoder('utf-8', { fatal: true }).decode(text.subarray(start, end));
        start = end;
      }
      assert.equal(start, text.length, `round ${round}`);
    }
  }
});
