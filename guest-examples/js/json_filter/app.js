// filter/json_filter: keep records whose JSON field equals a value.
// The same plugin as the host's native dataflare.builtin.json_filter: the
// value must be a JSON object; a missing `field` drops; a string field
// matches `value` as raw text; any other field matches `value` as JSON.
import { log } from 'dataflare:plugin/log@0.2.0';
import { jsonEqual, parseObject, parseText } from '../../../host/dataflare/sdk/js/json.js';
import { filterEach } from '../../../host/dataflare/sdk/js/batch.js';
import { PluginError, validate } from '../../../host/dataflare/sdk/js/plugin.js';

const INFO = {
  name: 'json_filter',
  version: '0.1.0',
  kind: 'filter',
  description: 'Keep records whose JSON object has `field` equal to `value`.',
  params: [
    { name: 'field', description: 'top-level key of the JSON object to compare', required: true },
    {
      name: 'value',
      description: 'the value to keep; raw text for strings, JSON otherwise',
      required: true,
    },
  ],
};

let field;
let value;
let asJson; // `value` decoded once; undefined when it is not JSON

export function describe() {
  return INFO;
}

export function configure(config) {
  const params = validate(INFO, config);
  field = params.get('field');
  value = params.get('value');
  asJson = parseText(value);
  log('debug', `json_filter: keep ${field} == ${value}`);
}

function keep(record) {
  const obj = parseObject(record.value);
  if (field === undefined) {
    throw new PluginError('configuration', "plugin 'json_filter': parameter 'field' is not set");
  }
  if (!Object.prototype.hasOwnProperty.call(obj, field)) return false;
  const found = obj[field];
  if (typeof found === 'string') return found === value;
  return asJson !== undefined && jsonEqual(found, asJson);
}

export function filter(record) {
  return keep(record);
}

// The same `keep`, over one record view at a time of a columnar batch.
export const filterBatch = filterEach(keep);
