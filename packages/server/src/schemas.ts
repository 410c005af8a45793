/**
 * JSON request bodies and their validators, compiled once at module load (ajv).
 *
 * `PutBody` is the seed's `{"key": string, "value": string}`, plus an optional
 * `ttl` (ms) and `ifVersion` (compare-and-set: store only if the entry's
 * version is this; 0 = only if absent). The batch bodies are in
 * batchSchemas.ts. A field a schema does not name is refused (400
 * `unknown_field`, naming it), never ignored: a client that sends `"tll"` or
 * `"expires"` must learn that nothing it meant happened. A key must be
 * non-empty; its byte limit and the value's are checked by the handler
 * against the configured settings, because they are runtime values and their
 * errors are 413, not 400.
 */

import { Ajv, type ErrorObject } from 'ajv';

import type { ErrorCode } from './errors.js';

export interface PutBody {
  key: string;
  value: string;
  ttl?: number;
  ifVersion?: number;
}

/** A TTL in ms: a whole number ≥ 0 (its upper bound, MAX_TTL_MS, is checked by ttl.ts with a message of its own). */
export const TTL_SCHEMA = { type: 'integer', minimum: 0 } as const;

// Plain schemas rather than JSONSchemaType: that type would make the optional fields
// `nullable`, and a `"ttl": null` must be refused, not read as "no TTL".
const putBodySchema = {
  type: 'object',
  properties: {
    key: { type: 'string', minLength: 1 },
    value: { type: 'string' },
    ttl: TTL_SCHEMA,
    ifVersion: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
  required: ['key', 'value'],
  additionalProperties: false,
} as const;

/** `verbose` keeps each error's schema, so that an unknown-field error can list the known fields. */
export const ajv = new Ajv({ allErrors: false, strict: true, verbose: true });

export const validatePutBody = ajv.compile<PutBody>(putBodySchema);

/**
 * The error code and one readable sentence for the first validation error,
 * e.g. `"value" must be string` or `unknown field "tll" in the body; known
 * fields: key, value, ttl, ifVersion`. Paths are written as in JavaScript:
 * `entries[3].ttl`.
 */
export function describeValidationError(
  errors: readonly ErrorObject[] | null | undefined,
  shape = '{"key": string, "value": string}',
): {
  readonly code: ErrorCode;
  readonly message: string;
} {
  const first = errors?.[0];
  if (!first) return { code: 'invalid_body', message: `body must be a ${shape} object` };
  const at = pathOf(first.instancePath);
  if (first.keyword === 'additionalProperties') {
    const field = String((first.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys((first.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return {
      code: 'unknown_field',
      message: `unknown field ${JSON.stringify(field)} in ${at === '' ? 'the body' : at}; known fields: ${known.join(', ')}`,
    };
  }
  if (first.keyword === 'required') {
    const field = String((first.params as { missingProperty: string }).missingProperty);
    const where = at === '' ? 'body' : at;
    const type = typeOf(first);
    return { code: field === 'key' ? 'missing_key' : 'invalid_body', message: `${where} must have ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} "${field}" field` };
  }
  if (first.keyword === 'minLength' && /(^|\.)key$|^keys\[\d+\]$/.test(at)) return { code: 'empty_key', message: `${at} must not be empty` };
  if (/(^|\.)ttl$/.test(at)) {
    return { code: 'invalid_ttl', message: `${at} must be a whole number of milliseconds ≥ 0 (0 = never expires)` };
  }
  const where = at === '' ? 'body' : `"${at}"`;
  return { code: 'invalid_body', message: `${where} ${first.message ?? 'is invalid'}` };
}

/** `/entries/3/key` as `entries[3].key`; '' for the body itself. */
function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`), '');
}

function typeOf(error: ErrorObject): string {
  const field = String((error.params as { missingProperty: string }).missingProperty);
  const type = (error.parentSchema as { properties?: Record<string, { type?: string }> } | undefined)?.properties?.[field]?.type;
  return typeof type === 'string' ? type : 'valid';
}
