// {{name}}: a DataFlare source. Produces {"n": 0} .. {"n": count - 1}, keyed by n.
import * as df from './dataflare/index.js';

const count = df.param('count', 'unsigned', 5, 'how many records to produce');

let next = 0; // the n of the next record

export const { describe, configure, connect, read, checkpoint, restore, close } = df.source('{{name}}', {
  read(max) {
    if (next >= count.value) return df.END;
    const records = [];
    for (; next < count.value && records.length < max; next++) {
      records.push({ key: String(next), value: df.json({ n: next }) });
    }
    return records.length > 0 ? records : df.PENDING;
  },
  // The position is the next n, as decimal text.
  checkpoint: () => String(next),
  restore(position) {
    const text = df.text(position);
    if (!/^\d+$/.test(text)) throw new df.PluginError('serialization', `bad position "${text}"`);
    next = Number(text);
  },
});
