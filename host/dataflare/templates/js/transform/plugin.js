// {{name}}: a DataFlare transform. Sets the field "tag" of each JSON object value.
import * as df from './dataflare/index.js';

const tag = df.param('tag', 'string', 'seen', 'the text to put in the field "tag"');

export const { describe, configure, transform, transformBatch } = df.transform('{{name}}', (record) => {
  const value = df.jsonObject(record);
  value.tag = tag.value;
  // The key, timestamp and metadata stay as they were.
  return { ...record, value: df.json(value) };
});
