// Unit tests of host/dataflare/sdk/js/json.js, run by node's own test runner (test_js_sdk.py
// runs them). Its rules agree with the host's dataflare/builtin/_json.py; the
// twin checks in tests/guests_js/ compare them through real components.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseText } from '../../../host/dataflare/sdk/js/json.js';

test('an escaped lone surrogate is invalid, high or low, in a key or a value', () => {
  // The quick screen that skips the well-formedness walk must see every
  // surrogate escape, \uD800 to \uDFFF, in either case.
  for (const text of ['{"\\udc00": 1}', '{"a": "\\uDFFF"}', '["\\ud800"]', '"x\\uDBFFy"', '{"a": "\\ude00z"}']) {
    assert.equal(parseText(text), undefined, text);
  }
});

test('an escaped surrogate pair is valid', () => {
  assert.deepEqual(parseText('{"\\ud83d\\ude00": "\\uD83D\\uDE00"}'), { '😀': '😀' });
});
