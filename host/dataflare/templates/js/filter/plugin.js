// {{name}}: a DataFlare filter. Keeps records whose JSON "amount" is above `min`.
import * as df from './dataflare/index.js';

const min = df.param('min', 'number', 10, 'keep records whose "amount" is above this');

export const { describe, configure, filter, filterBatch } = df.filter('{{name}}', (record) => {
  const { amount } = df.jsonObject(record);
  return typeof amount === 'number' && amount > min.value;
});
