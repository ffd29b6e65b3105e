// {{name}}: a DataFlare sink. Logs each JSON object value that holds the field `required`.
import { log } from 'dataflare:plugin/log@0.2.0';
import * as df from './dataflare/index.js';

const required = df.param('required', 'string', 'id', 'the field every record must hold');

export const { describe, configure, connect, write, writeBatch, flush, close } = df.sink('{{name}}', (record) => {
  const value = df.jsonObject(record);
  if (!Object.hasOwn(value, required.value)) {
    throw new df.PluginError('processing', `missing field "${required.value}"`);
  }
  log('info', `{{name}}: ${df.text(record.value)}`);
});
