// The JSON rules every DataFlare example plugin shares (see the host's
// dataflare/builtin/_json.py): strict UTF-8 and RFC 8259, numbers as doubles
// (infinite is invalid), no lone surrogates, the last repeated key wins;
// canonical output is RFC 8785 (keys sorted by UTF-16 code units). The
// host leaves maximum nesting to Python's recursion limit (~1000); the Rust
// and JS guests both reject values nested deeper than MAX_DEPTH.
import { PluginError } from './plugin.js';

export const INVALID_JSON = 'value is not valid JSON';
export const NOT_AN_OBJECT = 'value is not a JSON object';

// fatal: invalid UTF-8 throws; ignoreBOM: keep a BOM so JSON.parse rejects it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Nesting deeper than this is invalid: the same bound as the Rust SDK's json::MAX_DEPTH. */
export const MAX_DEPTH = 900;

function wellFormed(root) {
  // Iterative, so deep documents cannot overflow the stack here. A value's
  // depth is its number of enclosing containers (the top level is 0).
  const stack = [[root, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop();
    if (depth > MAX_DEPTH) return false;
    if (typeof item === 'string') {
      if (LONE_SURROGATE.test(item)) return false;
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) return false;
    } else if (Array.isArray(item)) {
      for (const x of item) stack.push([x, depth + 1]);
    } else if (item !== null && typeof item === 'object') {
      for (const k of Object.keys(item)) {
        if (LONE_SURROGATE.test(k)) return false;
        stack.push([item[k], depth + 1]);
      }
    }
  }
  return true;
}

// What a text must contain for JSON.parse to give a value `wellFormed`
// rejects: a \u escape of a surrogate (decoded UTF-8 holds none raw), or a
// number that may overflow to Infinity (an exponent, or 309+ digits). Too
// deep a value needs 901 brackets open and closed, so a text shorter than
// SHALLOW cannot be. Most records hold none of these and skip the walk,
// which costs more than JSON.parse itself in the interpreter.
const RISKY = /\\u[dD][89a-fA-F]|\d[eE]|\d{309}/;
const SHALLOW = 2 * (MAX_DEPTH + 1);

/** Decode a JSON text (a string), or return undefined when it is not valid by our rules. */
export function parseText(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return undefined;
  }
  if (text.length < SHALLOW && !RISKY.test(text)) return value;
  return wellFormed(value) ? value : undefined;
}

/** Decode bytes that must hold a JSON text; throws a serialization PluginError. */
export function parseJson(bytes) {
  let text;
  try {
    text = utf8.decode(bytes);
  } catch (e) {
    throw new PluginError('serialization', INVALID_JSON);
  }
  const value = parseText(text);
  if (value === undefined) throw new PluginError('serialization', INVALID_JSON);
  return value;
}

export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Decode bytes that must hold a JSON object. */
export function parseObject(bytes) {
  const value = parseJson(bytes);
  if (!isObject(value)) throw new PluginError('serialization', NOT_AN_OBJECT);
  return value;
}

/** Structural equality: numbers as doubles (-0 == 0); true is not 1. */
export function jsonEqual(a, b) {
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length
      && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (typeof a !== typeof b) return false;
  if (typeof a === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length
      && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return a === b;
}

function encode(value) {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    // JSON.stringify escapes exactly ", \ and U+0000..U+001F, and prints
    // numbers as Number.prototype.toString: both what RFC 8785 asks.
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return '[' + value.map(encode).join(',') + ']';
  // Default sort compares UTF-16 code units, the RFC 8785 key order.
  const keys = Object.keys(value).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + encode(value[k])).join(',') + '}';
}

/** The RFC 8785 encoding of a decoded value, as a string. */
export function canonicalText(value) {
  return encode(value);
}

/** The RFC 8785 encoding of a decoded value, as UTF-8 bytes. */
export function canonical(value) {
  return new TextEncoder().encode(encode(value));
}
