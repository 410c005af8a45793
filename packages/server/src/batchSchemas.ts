/**
 * The JSON bodies of the batch routes (batchRoutes.ts), validated whole by ajv
 * before anything is read or written:
 *
 *   POST /mget  {"keys": [string, ...]}
 *   POST /mset  {"entries": [{"key": string, "value": string, "ttl"?: ms}, ...]}
 *   POST /mdel  {"keys": [string, ...]}
 *
 * Keys must be non-empty strings; unknown fields are refused, at any depth.
 * How many keys a batch may hold is a setting (MAX_BATCH_KEYS), checked by the
 * handler with a message that states it; byte limits likewise.
 */

import { ajv, TTL_SCHEMA } from './schemas.js';

export interface KeysBody {
  keys: string[];
}

export interface MsetEntry {
  key: string;
  value: string;
  ttl?: number;
}

export interface MsetBody {
  entries: MsetEntry[];
}

const keysBodySchema = {
  type: 'object',
  properties: { keys: { type: 'array', items: { type: 'string', minLength: 1 } } },
  required: ['keys'],
  additionalProperties: false,
} as const;

const msetBodySchema = {
  type: 'object',
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: { key: { type: 'string', minLength: 1 }, value: { type: 'string' }, ttl: TTL_SCHEMA },
        required: ['key', 'value'],
        additionalProperties: false,
      },
    },
  },
  required: ['entries'],
  additionalProperties: false,
} as const;

export const validateKeysBody = ajv.compile<KeysBody>(keysBodySchema);
export const validateMsetBody = ajv.compile<MsetBody>(msetBodySchema);

export const KEYS_SHAPE = '{"keys": [string, ...]}';
export const MSET_SHAPE = '{"entries": [{"key": string, "value": string, "ttl"?: ms}, ...]}';
