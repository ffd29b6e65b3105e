// Unit tests of host/dataflare/sdk/js/index.js, the SDK's one-import entry
// (typed params, kind helpers), run by node's own test runner. The project
// templates built from it are checked end to end in tests/authoring/test_lang_js.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch, toBatch } from '../../../host/dataflare/sdk/js/batch.js';

const SDK = '../../../host/dataflare/sdk/js/index.js';
let fresh = 0;

/** A new instance of the SDK: parameters are declared per module, one plugin each. */
async function sdk() {
  fresh += 1;
  return import(`${SDK}?instance=${fresh}`);
}

const enc = new TextEncoder();
const rec = (value, key) => ({ key: key === undefined ? undefined : enc.encode(key), value: enc.encode(value), timestamp: undefined, metadata: [] });
const configError = (message) => ({ payload: { tag: 'configuration', val: message } });

test('params feed describe: name, description, default as text, required without one', async () => {
  const df = await sdk();
  df.param('min', 'number', 10, 'the least amount');
  df.param('field', 'string', undefined, 'which field');
  const { describe } = df.filter('amount_min', () => true, { description: 'Keeps some.' });
  assert.deepEqual(describe(), {
    name: 'amount_min',
    version: '0.1.0',
    kind: 'filter',
    description: 'Keeps some.',
    params: [
      { name: 'min', description: 'the least amount', required: false, default: '10' },
      { name: 'field', description: 'which field', required: true, default: undefined },
    ],
  });
});

test('configure parses each type and names a bad value with the host-style message', async () => {
  const df = await sdk();
  const min = df.param('min', 'number', 10, '');
  const n = df.param('n', 'unsigned', 5, '');
  const i = df.param('i', 'integer', -1, '');
  const on = df.param('on', 'boolean', false, '');
  const s = df.param('s', 'string', 'x', '');
  const { configure } = df.filter('p', () => true);
  assert.equal(min.value, 10);
  configure([['min', '2.5e1'], ['n', '7'], ['i', '-3'], ['on', 'true'], ['s', ' y ']]);
  assert.deepEqual([min.value, n.value, i.value, on.value, s.value], [25, 7, -3, true, ' y ']);
  const bad = [
    ['min', 'abc', "plugin 'p': parameter 'min' must be a number, got 'abc'"],
    ['min', '', "plugin 'p': parameter 'min' must be a number, got ''"],
    ['min', '1e999', "plugin 'p': parameter 'min' must be a number, got '1e999'"],
    ['n', '-1', "plugin 'p': parameter 'n' must be a non-negative integer, got '-1'"],
    ['n', '1.5', "plugin 'p': parameter 'n' must be a non-negative integer, got '1.5'"],
    ['i', '2.0', "plugin 'p': parameter 'i' must be an integer, got '2.0'"],
    ['on', 'yes', "plugin 'p': parameter 'on' must be true or false, got 'yes'"],
  ];
  for (const [name, text, message] of bad) {
    assert.throws(() => configure([[name, text]]), configError(message), `${name}=${text}`);
  }
  // A failed configure changes nothing; a later good one sets defaults again.
  assert.equal(min.value, 25);
  configure([]);
  assert.deepEqual([min.value, n.value, i.value, on.value, s.value], [10, 5, -1, false, 'x']);
});

test('configure: unknown and missing parameters get the host messages (plugin.js validate)', async () => {
  const df = await sdk();
  df.param('field', 'string', undefined, '');
  const { configure } = df.filter('p', () => true);
  assert.throws(() => configure([]), configError("plugin 'p': missing required parameter 'field'"));
  assert.throws(
    () => configure([['field', 'a'], ['zz', '1']]),
    configError("plugin 'p': unknown parameter(s) 'zz'; known parameters: field"),
  );
});

test('a bad default or type is a bug in the plugin, caught when declared', async () => {
  const df = await sdk();
  assert.throws(() => df.param('min', 'number', 'ten', ''), /the default of parameter 'min' must be a number/);
  assert.throws(() => df.param('x', 'float', 1, ''), /type must be one of/);
  df.param('y', 'string', 'a', '');
  assert.throws(() => df.param('y', 'string', 'b', ''), /declared twice/);
});

test('filter: the per-record and batch exports agree, a PluginError fails one record', async () => {
  const df = await sdk();
  const min = df.param('min', 'number', 10, '');
  const p = df.filter('f', (r) => {
    const { amount } = df.jsonObject(r);
    return typeof amount === 'number' && amount > min.value;
  });
  const values = ['{"amount": 11}', '{"amount": 10}', '[1]', 'nope', '{"amount": "99"}', '{}'];
  const out = p.filterBatch(toBatch(values.map((v) => rec(v))));
  assert.deepEqual([...out.keep], [0b000001]);
  assert.deepEqual(out.errors, [
    { index: 2, error: { tag: 'serialization', val: 'value is not a JSON object' } },
    { index: 3, error: { tag: 'serialization', val: 'value is not valid JSON' } },
  ]);
  assert.equal(p.filter(rec('{"amount": 11}')), true);
  assert.throws(() => p.filter(rec('[1]')), { payload: { tag: 'serialization', val: 'value is not a JSON object' } });
});

test('transform: string keys and values become UTF-8; other fields are kept', async () => {
  const df = await sdk();
  const p = df.transform('t', (r) => ({ ...r, key: 'k', value: df.json({ ...df.jsonObject(r), tag: 'é' }) }));
  const one = p.transform({ ...rec('{"a":1}'), timestamp: 5n, metadata: [['m', 'v']] });
  assert.deepEqual(one, { key: enc.encode('k'), value: enc.encode('{"a":1,"tag":"é"}'), timestamp: 5n, metadata: [['m', 'v']] });
  const out = p.transformBatch(toBatch([rec('{"b":2}'), rec('1')]));
  assert.deepEqual(out.errors, [{ index: 1, error: { tag: 'serialization', val: 'value is not a JSON object' } }]);
  assert.deepEqual(new Batch(out.records).record(0).value, enc.encode('{"b":2,"tag":"é"}'));
});

test('aggregate: a JSON accumulator, folded per record or per batch, merged and emitted', async () => {
  const df = await sdk();
  const p = df.aggregate('a', {
    init: () => ({}),
    fold(counts, r) {
      const { g } = df.jsonObject(r);
      if (typeof g !== 'string') throw new df.PluginError('processing', 'missing field "g"');
      counts[g] = (counts[g] ?? 0) + 1;
      return counts;
    },
    merge(a, b) {
      for (const g of Object.keys(b)) a[g] = (a[g] ?? 0) + b[g];
      return a;
    },
    emit: (counts) => Object.keys(counts).sort(df.byCodePoint).map((g) => ({ key: g, value: df.json({ g, n: counts[g] }) })),
  });
  const text = (bytes) => new TextDecoder().decode(bytes);
  let acc = p.init();
  assert.equal(text(acc), '{}');
  // `__proto__` is a group like any other, not the object's prototype.
  acc = p.aggregate(acc, rec('{"g": "__proto__"}'));
  const out = p.aggregateBatch(acc, toBatch([rec('{"g": "x"}'), rec('{}'), rec('{"g": "__proto__"}')]));
  assert.deepEqual(out.errors, [{ index: 1, error: { tag: 'processing', val: 'missing field "g"' } }]);
  assert.equal(text(out.accumulator), '{"__proto__":2,"x":1}');
  const merged = p.merge(out.accumulator, enc.encode('{"x":2,"\u{1F600}":1,"\uFFFF":1}'));
  const emitted = new Batch(p.emit(merged));
  // Code-point order: U+FFFF before U+1F600 (UTF-16 order would swap them).
  assert.deepEqual([...emitted].map((r) => text(r.key)), ['__proto__', 'x', '\uFFFF', '\u{1F600}']);
  assert.throws(() => p.merge(enc.encode('{'), acc), { payload: { tag: 'serialization', val: 'accumulator is not valid JSON' } });
  const broken = p.aggregateBatch(enc.encode('nope'), toBatch([rec('{"g": "x"}')]));
  assert.deepEqual(broken.errors, [{ index: 0, error: { tag: 'serialization', val: 'accumulator is not valid JSON' } }]);
});

test('source: records, PENDING, END (also an empty list), a text checkpoint as bytes', async () => {
  const df = await sdk();
  const answers = [[{ key: '0', value: '{"n":0}' }], df.PENDING, [], df.END];
  const p = df.source('s', { read: () => answers.shift(), checkpoint: () => '7', restore() {} });
  const first = p.read(10);
  assert.equal(first.tag, 'records');
  assert.deepEqual([...new Batch(first.val)].map((r) => r.key), [enc.encode('0')]);
  assert.equal(p.read(10), df.PENDING);
  assert.equal(p.read(10), df.END);
  assert.equal(p.read(10), df.END);
  assert.deepEqual(p.checkpoint(), enc.encode('7'));
  p.connect();
  p.close();
});

test('sink: write per record and per batch, the batch failing only bad records', async () => {
  const df = await sdk();
  const seen = [];
  const p = df.sink('k', (r) => seen.push(df.jsonObject(r)), { flush: () => seen.push('flushed') });
  assert.equal(p.write(rec('{"a":1}')), undefined);
  const errors = p.writeBatch(toBatch([rec('{"b":2}'), rec('x')]));
  assert.deepEqual(errors, [{ index: 1, error: { tag: 'serialization', val: 'value is not valid JSON' } }]);
  p.flush();
  assert.deepEqual(seen, [{ a: 1 }, { b: 2 }, 'flushed']);
});

test('text() of bytes that are not UTF-8 is a serialization error', async () => {
  const df = await sdk();
  assert.equal(df.text(enc.encode('é')), 'é');
  assert.throws(() => df.text(new Uint8Array([0xff])), { payload: { tag: 'serialization', val: 'bytes are not valid UTF-8' } });
});

test('source and sink: calls after close fail with an io error; closing twice is harmless', async () => {
  const df = await sdk();
  const closed = { payload: { tag: 'io', val: "plugin 'p' is closed" } };
  let closes = 0;
  const src = df.source('p', { read: () => [{ value: '1' }], checkpoint: () => '0', restore() {}, close: () => closes++ });
  src.connect();
  assert.equal(src.read(1).tag, 'records');
  src.close();
  src.close();
  assert.equal(closes, 1);
  assert.throws(() => src.read(1), closed);
  assert.throws(() => src.checkpoint(), closed);
  assert.throws(() => src.restore(enc.encode('0')), closed);
  assert.throws(() => src.connect(), closed);
  const snk = df.sink('p', () => {});
  snk.write(rec('{}'));
  snk.close();
  snk.close();
  assert.throws(() => snk.write(rec('{}')), closed);
  assert.throws(() => snk.flush(), closed);
  assert.deepEqual(snk.writeBatch(toBatch([rec('{}'), rec('{}')])), [0, 1].map((index) => ({ index, error: closed.payload })));
});
