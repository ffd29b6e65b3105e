// transform/mask_email: hide the local part of an email address.
// The same plugin as the host's native dataflare.builtin.mask_email: the
// local part (before the LAST @) becomes its first code point plus ***, and
// the value is re-encoded canonically (RFC 8785).
import { canonical, parseObject } from '../../../host/dataflare/sdk/js/json.js';
import { transformEach } from '../../../host/dataflare/sdk/js/batch.js';
import { PluginError, validate } from '../../../host/dataflare/sdk/js/plugin.js';

const INFO = {
  name: 'mask_email',
  version: '0.1.0',
  kind: 'transform',
  description: 'Mask the local part of an email address held in a JSON field.',
  params: [
    {
      name: 'field',
      description: 'top-level key holding the email address',
      required: false,
      default: 'email',
    },
  ],
};

let field = 'email';

/** `address` with its local part reduced to the first code point and ***. */
export function mask(address) {
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const rest = at < 0 ? '' : address.slice(at);
  const first = local.length > 0 ? String.fromCodePoint(local.codePointAt(0)) : '';
  return first + '***' + rest;
}

export function describe() {
  return INFO;
}

export function configure(config) {
  field = validate(INFO, config).get('field');
}

function apply(record) {
  const obj = parseObject(record.value);
  if (Object.prototype.hasOwnProperty.call(obj, field)) {
    const found = obj[field];
    if (typeof found !== 'string') {
      throw new PluginError('processing', `field "${field}" is not a string`);
    }
    obj[field] = mask(found);
  }
  return { ...record, value: canonical(obj) };
}

export function transform(record) {
  return apply(record);
}

// The same `apply`, over one record view at a time of a columnar batch.
export const transformBatch = transformEach(apply);
