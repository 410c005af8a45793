/**
 * The raw-bytes routes, `/kv/<key>`, with versions, TTLs and conditional
 * requests:
 *
 *   GET    /kv/:key            the bytes, Content-Type from the entry's metadata,  200 | 304 | 404 | 412
 *                              ETag "<version>", x-ttl-ms when it expires
 *   HEAD   /kv/:key            as GET without the body; no recency bump, no hit counted
 *   PUT    /kv/:key[?ttl=ms]   raw body = value, Content-Type kept as metadata     200 | 412
 *   DELETE /kv/:key                                                                200 | 404 | 412
 *
 * Conditions (If-Match, If-None-Match; conditional.ts) decide GET/HEAD
 * (304, 412) and make PUT/DELETE a compare-and-set through the engine's
 * setIf/deleteIf. A conditional write answers with the new version (ETag and
 * `"version"`); an unconditional one does not (the engine's `set` does not
 * report it, and reading it afterwards could report another writer's).
 */

import type { SlabLruCache } from '@slabcache/engine';
import type { Request } from 'hyper-express';

import { readBody } from './body.js';
import {
  etagOf,
  expectedVersionOf,
  hasPreconditions,
  preconditionFailed,
  preconditionsOf,
  readOutcome,
  writeAllowed,
  type Preconditions,
} from './conditional.js';
import { isStorableContentType, MAX_CONTENT_TYPE_BYTES, servedContentType } from './contentType.js';
import { badRequest, valueTooLarge } from './errors.js';
import { checkKeySize, keyFromPath } from './keys.js';
import { queryParameters } from './query.js';
import { errorReply, jsonReply, type Reply } from './reply.js';
import type { Handler, RouteContext, RouteSpec } from './routes.js';
import { TTL_HEADER, ttlFromText, ttlHeaderValue } from './ttl.js';

const PATTERN = '/kv/:key';

/** The answer to an unconditional write or a delete. (No 204: uWS 20.30 sends a bogus Content-Length with it.) */
export const OK = jsonReply(200, '{"ok":true}');

/** The answer to a conditional write: the new version, in the body and as the ETag. */
export function storedVersionReply(version: number): Reply {
  return jsonReply(200, `{"ok":true,"version":${version}}`, { etag: etagOf(version) });
}

/** The headers every read of an entry carries: its version, and the ms it has left if it expires. */
export function entryHeaders(version: number, remainingTTL: number): Record<string, string> {
  return remainingTTL === Infinity ? { etag: etagOf(version) } : { etag: etagOf(version), [TTL_HEADER]: ttlHeaderValue(remainingTTL) };
}

export function notFound(key: string): Reply {
  return errorReply(404, 'not_found', `no value for key ${JSON.stringify(key)}`);
}

/**
 * 304: no body, the entry's ETag (RFC 9110 §15.4.5). With `Content-Length: 0`:
 * hyper-express 6.18 ends a bodiless reply with uWS `endWithoutBody(length)`,
 * and uWS 20.30 then writes a bogus length for an undefined one (2^63) and waits
 * for a body that never comes, killing the keep-alive connection; 0 ends the
 * reply cleanly. (Strictly, RFC 9110 §8.6 wants the 200's length or no header;
 * a 304 never has content whatever its headers say, RFC 9112 §6.3.)
 */
export function notModified(version: number, remainingTTL: number): Reply {
  const headers = entryHeaders(version, remainingTTL);
  headers['content-length'] = '0';
  return { status: 304, headers };
}

/** The version of `key` now, 0 if absent (a peek: no recency bump, no hit counted). Slow paths only: it copies the value. */
export function currentVersion(cache: SlabLruCache, key: string): number {
  return cache.getEntryBytes(key, { peek: true })?.version ?? 0;
}

/**
 * Stores through the engine's compare-and-set as the conditions `p` say
 * (at least one is present). Returns the new version; throws 412 if a
 * condition does not hold, or stopped holding before the store.
 */
export function conditionalSet(cache: SlabLruCache, key: string, p: Preconditions, store: (expected: number) => number): number {
  let expected = expectedVersionOf(p);
  if (expected === undefined) {
    expected = currentVersion(cache, key);
    if (!writeAllowed(p, expected)) throw preconditionFailed(key, expected);
  }
  const version = expected < 0 ? 0 : store(expected);
  if (version === 0) throw preconditionFailed(key, currentVersion(cache, key));
  return version;
}

export function kvRoutes(ctx: RouteContext): RouteSpec[] {
  const { cache, config } = ctx;
  const maxKeyBytes = config.maxKeyBytes;
  const maxValueBytes = config.maxValueBytes;

  /** The key, checked; and the query, which only PUT may have (`?ttl=`). */
  const kvKey = (req: Request): string => {
    const key = keyFromPath(req.path_parameters['key']);
    checkKeySize(key, maxKeyBytes);
    if (req.path_query !== '' && req.method !== 'PUT') queryParameters(req.path_query, [], `${req.method} /kv/<key>`);
    return key;
  };

  const read =
    (peek: boolean): Handler =>
    (req) => {
      const key = kvKey(req);
      const p = preconditionsOf(req.headers);
      const entry = cache.getEntryBytes(key, peek ? PEEK : undefined);
      if (entry === undefined) {
        // RFC 9110 §13.1.1: If-Match fails when there is no current representation.
        if (p.ifMatch !== undefined) throw preconditionFailed(key, 0);
        return notFound(key);
      }
      if (hasPreconditions(p)) {
        const outcome = readOutcome(p, entry.version);
        if (outcome === 'failed') throw preconditionFailed(key, entry.version);
        if (outcome === 'not_modified') return notModified(entry.version, entry.remainingTTL);
      }
      return {
        status: 200,
        body: entry.value,
        contentType: servedContentType(entry.meta),
        headers: entryHeaders(entry.version, entry.remainingTTL),
      };
    };

  const put: Handler = async (req) => {
    const key = kvKey(req);
    const ttlText = req.path_query === '' ? undefined : queryParameters(req.path_query, ['ttl'], 'PUT /kv/<key>')['ttl'];
    const ttl = ttlText === undefined ? undefined : ttlFromText(ttlText);
    const contentType = req.headers['content-type'];
    if (contentType !== undefined && !isStorableContentType(contentType)) {
      throw badRequest(
        'invalid_content_type',
        `Content-Type must be printable ASCII of at most ${MAX_CONTENT_TYPE_BYTES} bytes to be stored with the value`,
      );
    }
    const p = preconditionsOf(req.headers);
    const body = await readBody(req, maxValueBytes, (actual) => valueTooLarge(actual, maxValueBytes));
    const options = setOptions(ttl, contentType === '' ? undefined : contentType);
    if (!hasPreconditions(p)) {
      cache.set(key, body, options);
      return OK;
    }
    return storedVersionReply(conditionalSet(cache, key, p, (expected) => cache.setIf(key, body, expected, options)));
  };

  const remove: Handler = (req) => {
    const key = kvKey(req);
    const p = preconditionsOf(req.headers);
    if (!hasPreconditions(p)) return cache.delete(key) ? OK : notFound(key);
    let expected = expectedVersionOf(p);
    // Only `If-Match: "N"` alone names the version without a read (0 is "absent", which a delete cannot expect).
    if (expected === undefined || expected === 0) {
      expected = currentVersion(cache, key);
      if (!writeAllowed(p, expected)) throw preconditionFailed(key, expected);
      if (expected === 0) return notFound(key);
    }
    if (expected < 0 || !cache.deleteIf(key, expected)) throw preconditionFailed(key, currentVersion(cache, key));
    return OK;
  };

  return [
    { method: 'get', pattern: PATTERN, handler: read(false) },
    { method: 'head', pattern: PATTERN, handler: read(true) },
    { method: 'put', pattern: PATTERN, handler: put },
    { method: 'delete', pattern: PATTERN, handler: remove },
  ];
}

const PEEK = Object.freeze({ peek: true });

/** The engine's SetOptions with only what was given (exactOptionalPropertyTypes: no `undefined` members). */
export function setOptions(ttl: number | undefined, meta: string | undefined): { ttl?: number; meta?: string } | undefined {
  if (ttl === undefined && meta === undefined) return undefined;
  const options: { ttl?: number; meta?: string } = {};
  if (ttl !== undefined) options.ttl = ttl;
  if (meta !== undefined) options.meta = meta;
  return options;
}
