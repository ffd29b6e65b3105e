// {{name}}: a DataFlare aggregate. Counts records per value of a JSON field.
import * as df from './dataflare/index.js';

const groupBy = df.param('group_by', 'string', 'region', 'the JSON field whose value names the group');

/** The record's group: the field's value if a string, else its compact JSON text. */
function group(record) {
  const value = df.jsonObject(record);
  if (!Object.hasOwn(value, groupBy.value)) {
    throw new df.PluginError('processing', `missing field "${groupBy.value}"`);
  }
  const found = value[groupBy.value];
  return typeof found === 'string' ? found : df.jsonText(found);
}

// The accumulator is a JSON object {group: count}.
export const { describe, configure, init, aggregate, aggregateBatch, merge, emit } = df.aggregate('{{name}}', {
  init: () => ({}),
  fold(counts, record) {
    const g = group(record);
    counts[g] = (counts[g] ?? 0) + 1;
    return counts;
  },
  merge(a, b) {
    for (const g of Object.keys(b)) a[g] = (a[g] ?? 0) + b[g];
    return a;
  },
  emit: (counts) =>
    Object.keys(counts)
      .sort(df.byCodePoint)
      .map((g) => ({ key: g, value: df.json({ group: g, count: counts[g] }) })),
});
