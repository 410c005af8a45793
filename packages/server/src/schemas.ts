/**
 * JSON request bodies and their validators, compiled once at module load (ajv).
 *
 * `PutBody` is the seed's `{"key": string, "value": string}`. Extra fields are
 * ignored, as the seed did. A key must be non-empty; its byte limit and the
 * value's are checked by the handler against the configured settings, because
 * they are runtime values and their errors are 413, not 400.
 */

import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';

import type { ErrorCode } from './errors.js';

export interface PutBody {
  key: string;
  value: string;
}

const putBodySchema: JSONSchemaType<PutBody> = {
  type: 'object',
  properties: {
    key: { type: 'string', minLength: 1 },
    value: { type: 'string' },
  },
  required: ['key', 'value'],
  additionalProperties: true,
};

const ajv = new Ajv({ allErrors: false, strict: true });

export const validatePutBody = ajv.compile<PutBody>(putBodySchema);

/** The error code and one readable sentence for the first validation error, e.g. `"value" must be string`. */
export function describeValidationError(errors: readonly ErrorObject[] | null | undefined): {
  readonly code: ErrorCode;
  readonly message: string;
} {
  const first = errors?.[0];
  if (!first) return { code: 'invalid_body', message: 'body must be a {"key": string, "value": string} object' };
  if (first.keyword === 'required') {
    const field = String((first.params as { missingProperty: string }).missingProperty);
    return { code: field === 'key' ? 'missing_key' : 'invalid_body', message: `body must have a string "${field}" field` };
  }
  if (first.keyword === 'minLength' && first.instancePath === '/key') return { code: 'empty_key', message: 'key must not be empty' };
  const where = first.instancePath === '' ? 'body' : `"${first.instancePath.slice(1)}"`;
  return { code: 'invalid_body', message: `${where} ${first.message ?? 'is invalid'}` };
}
