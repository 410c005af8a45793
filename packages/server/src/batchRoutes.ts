/**
 * Batches: many keys in one request, so that a client pays one HTTP round trip
 * (and the server one request's overhead) for up to MAX_BATCH_KEYS keys.
 *
 *   POST /mget {"keys":[k, ...]}                          200 {"values":[v | null, ...]}  aligned with keys
 *   POST /mset {"entries":[{"key","value","ttl"?}, ...]}  200 {"ok":true,"stored":N}
 *   POST /mdel {"keys":[k, ...]}                          200 {"deleted":N}  N = keys that held a value
 *
 * Validated whole before anything is read or written: the JSON shape
 * (batchSchemas.ts, unknown fields refused), the number of keys (400
 * `too_many_keys` over MAX_BATCH_KEYS), every key's and value's size (413,
 * naming the entry) and every TTL. A batch that fails validation changes
 * nothing. Once validated, entries are applied in order: other clients may
 * see the first entries of an /mset before the last (a batch is not a
 * transaction), a key given twice ends with its last value, and in a cache
 * too small for the batch the first entries can be evicted by the last. If a
 * write fails part-way, the entries before it stay written and the error's
 * message says how many (after a 500 the count is unknown). /mset and /mdel
 * can be sent again as they are.
 *
 * /mget reads its keys with the engine's `getMany` and /mset writes with its
 * `setMany`: the effects of a get or set per key, with the keys' memory reads
 * overlapped; a `setMany` that fails part-way says how many entries it set
 * (`entriesStoredBefore`).
 *
 * Request bodies and the /mget reply are bounded by MAX_BATCH_BYTES (413
 * `body_too_large` / `reply_too_large`, stating it; the keys were read by
 * then, as reads that count). /mget values are strings:
 * a value stored as bytes through /kv is decoded as UTF-8, as /get does.
 */

import { entriesStoredBefore, type SetOptions } from '@slabcache/engine';
import type { Request } from 'hyper-express';

import { parseJson, readBody } from './body.js';
import { KEYS_SHAPE, MSET_SHAPE, validateKeysBody, validateMsetBody } from './batchSchemas.js';
import { badRequest, HttpError, keyTooLarge, toHttpError, valueTooLarge } from './errors.js';
import { queryParameters } from './query.js';
import { jsonReply } from './reply.js';
import type { Handler, RouteContext, RouteSpec } from './routes.js';
import { describeValidationError } from './schemas.js';
import { checkTtl } from './ttl.js';

type SetManyEntry = [key: string, value: string, options?: SetOptions];

export function batchRoutes(ctx: RouteContext): RouteSpec[] {
  const { cache, config } = ctx;
  const { maxKeyBytes, maxValueBytes, maxBatchKeys, maxBatchBytes } = config;

  /** The body of a batch request, read within MAX_BATCH_BYTES and parsed. */
  const batchBody = async (req: Request, route: string): Promise<unknown> => {
    if (req.path_query !== '') queryParameters(req.path_query, [], `POST ${route}`);
    const body = await readBody(
      req,
      maxBatchBytes,
      (actual) =>
        new HttpError(413, 'body_too_large', `request body is ${actual} bytes, over the MAX_BATCH_BYTES limit of ${maxBatchBytes} bytes for one batch`),
    );
    return parseJson(body);
  };

  const checkCount = (count: number, what: string): void => {
    if (count > maxBatchKeys) {
      throw badRequest('too_many_keys', `${what} has ${count} keys, over the MAX_BATCH_KEYS limit of ${maxBatchKeys} per batch; split it`);
    }
  };

  /** Every key's size, naming the first one over the limit (`keys[3]`). */
  const checkKeys = (keys: readonly string[], field: string, keyOf: (index: number) => string = (i) => keys[i] as string): void => {
    for (let i = 0; i < keys.length; i++) {
      const key = keyOf(i);
      if (key.length * 3 <= maxKeyBytes) continue;
      const bytes = Buffer.byteLength(key, 'utf8');
      if (bytes > maxKeyBytes) throw named(keyTooLarge(bytes, maxKeyBytes), `${field}[${i}]`);
    }
  };

  const mget: Handler = async (req) => {
    const body = await batchBody(req, '/mget');
    if (!validateKeysBody(body)) throw invalid(validateKeysBody.errors, KEYS_SHAPE);
    const keys = body.keys;
    checkCount(keys.length, '/mget');
    checkKeys(keys, 'keys');
    // One batched read: the same hits and recency changes as a get per key, with the keys' memory reads overlapped.
    const values = cache.getMany(keys);
    const parts = new Array<string>(keys.length);
    // The reply is bounded as it is built: UTF-16 units are a lower bound of its UTF-8 bytes, three times them an upper one.
    let units = 0;
    for (let i = 0; i < keys.length; i++) {
      const value = values[i];
      const part = value === undefined ? 'null' : JSON.stringify(value);
      units += part.length + 1;
      if (units > maxBatchBytes) throw replyTooLarge(`over ${maxBatchBytes} bytes after ${i + 1} of ${keys.length} values`);
      parts[i] = part;
    }
    const reply = `{"values":[${parts.join(',')}]}`;
    if (units * 3 > maxBatchBytes) {
      const bytes = Buffer.byteLength(reply, 'utf8');
      if (bytes > maxBatchBytes) throw replyTooLarge(`${bytes} bytes`);
    }
    return jsonReply(200, reply);
  };

  const replyTooLarge = (size: string): HttpError =>
    new HttpError(
      413,
      'reply_too_large',
      `the reply to this /mget would be ${size}, over the MAX_BATCH_BYTES limit of ${maxBatchBytes} bytes; ask for fewer keys at once`,
    );

  const mset: Handler = async (req) => {
    const body = await batchBody(req, '/mset');
    if (!validateMsetBody(body)) throw invalid(validateMsetBody.errors, MSET_SHAPE);
    const entries = body.entries;
    checkCount(entries.length, '/mset');
    checkKeys(entries as unknown as string[], 'entries', (i) => (entries[i] as { key: string }).key);
    for (let i = 0; i < entries.length; i++) {
      const { value, ttl } = entries[i] as { value: string; ttl?: number };
      if (value.length * 3 > maxValueBytes) {
        const bytes = Buffer.byteLength(value, 'utf8');
        if (bytes > maxValueBytes) throw named(valueTooLarge(bytes, maxValueBytes), `entries[${i}]`);
      }
      if (ttl !== undefined) checkTtl(ttl, `entries[${i}].ttl`);
    }
    try {
      cache.setMany(entries.map((entry): SetManyEntry => (entry.ttl === undefined ? [entry.key, entry.value] : [entry.key, entry.value, { ttl: entry.ttl }])));
    } catch (error) {
      const stored = entriesStoredBefore(error);
      throw partly(error, stored === undefined ? 'how many entries were stored is not known' : `the first ${stored} of ${entries.length} entries were stored, the others were not`);
    }
    return jsonReply(200, `{"ok":true,"stored":${entries.length}}`);
  };

  const mdel: Handler = async (req) => {
    const body = await batchBody(req, '/mdel');
    if (!validateKeysBody(body)) throw invalid(validateKeysBody.errors, KEYS_SHAPE);
    const keys = body.keys;
    checkCount(keys.length, '/mdel');
    checkKeys(keys, 'keys');
    let deleted = 0;
    let done = 0;
    try {
      for (const key of keys) {
        if (cache.delete(key)) deleted++;
        done++;
      }
    } catch (error) {
      throw partly(error, `the first ${done} of ${keys.length} keys were deleted (${deleted} held a value), the others were not`);
    }
    return jsonReply(200, `{"deleted":${deleted}}`);
  };

  return [
    { method: 'post', pattern: '/mget', handler: mget },
    { method: 'post', pattern: '/mset', handler: mset },
    { method: 'post', pattern: '/mdel', handler: mdel },
  ];
}

function invalid(errors: Parameters<typeof describeValidationError>[0], shape: string): HttpError {
  const { code, message } = describeValidationError(errors, shape);
  return badRequest(code, message);
}

/** The same error, its message prefixed with the entry it is about (`keys[3]: key is 2000 bytes, ...`). */
function named(error: HttpError, where: string): HttpError {
  return new HttpError(error.status, error.code, `${where}: ${error.message}`, error.headers);
}

/**
 * A failure part-way through a batch, with what was done said in the message.
 * An internal failure (503 `cache_locked`, 500) is rethrown as it is, so that
 * it is logged: its reply cannot say how much was done.
 */
function partly(error: unknown, done: string): unknown {
  const { httpError, internal } = toHttpError(error);
  if (internal) return error;
  return new HttpError(httpError.status, httpError.code, `${httpError.message}; ${done}`, httpError.headers);
}
