// What every DataFlare JS plugin shares: the plugin-error convention and
// parameter checking with the same messages as the host's native plugins.

/**
 * A failure the host sees as a WIT `plugin-error`. componentize-js lowers a
 * thrown value's `payload` as the `err` case of a `result`.
 */
export class PluginError extends Error {
  constructor(kind, message) {
    super(message);
    this.payload = { tag: kind, val: message };
  }
}

/** Compare strings by code point (Python's str order), not by UTF-16 unit. */
export function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/**
 * Check `config` (a list of [name, value] pairs) against `info.params` and
 * return a Map of values with defaults filled in.
 */
export function validate(info, config) {
  const known = info.params.map((p) => p.name);
  const unknown = [...new Set(config.map(([k]) => k).filter((k) => !known.includes(k)))];
  if (unknown.length > 0) {
    const listed = known.length > 0 ? [...known].sort(byCodePoint).join(', ') : 'none';
    const names = unknown.sort(byCodePoint).map((n) => `'${n}'`).join(', ');
    throw new PluginError(
      'configuration',
      `plugin '${info.name}': unknown parameter(s) ${names}; known parameters: ${listed}`,
    );
  }
  const given = new Map(config);
  const resolved = new Map();
  for (const p of info.params) {
    if (given.has(p.name)) resolved.set(p.name, given.get(p.name));
    else if (p.default !== undefined) resolved.set(p.name, p.default);
    else if (p.required) {
      throw new PluginError(
        'configuration',
        `plugin '${info.name}': missing required parameter '${p.name}'`,
      );
    }
  }
  return resolved;
}
