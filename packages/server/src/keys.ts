/**
 * Where keys come from in a request, and the checks every key passes before
 * it reaches the engine: present, a single value, non-empty, decodable, and
 * within MAX_KEY_BYTES (413 otherwise, on every route, so a client learns
 * about the limit whichever route it uses).
 *
 * Keys are plain strings to the cache: "__proto__" or "constructor" are
 * ordinary keys (the query parser returns a null-prototype object, and the
 * engine has no JS object per key at all).
 */

import { parse as parseQuery } from 'node:querystring';

import { badRequest, keyTooLarge } from './errors.js';
import { unknownParameter } from './query.js';

/** `key=<text>` and nothing else, with nothing to decode: the common case, read without parsing. */
const PLAIN_KEY_QUERY = /^key=[^&%+]+$/;

/** The `key` query parameter of `/get?key=...`; 400 when missing, empty or repeated. */
export function keyFromQuery(query: string): string {
  const key = optionalKeyFromQuery(query, '/get');
  if (key === undefined) throw badRequest('missing_key', 'query parameter "key" is required, e.g. /get?key=foo');
  return key;
}

/**
 * The `key` query parameter if the query has one (undefined otherwise); 400 when
 * empty or repeated, or when the query has any other parameter (`unknown_parameter`:
 * /put takes its TTL in the body, and nothing a client sends is ignored).
 * `/put?key=...` is the routable form of a /put: a router that hashes on the URL
 * picks the node from it, and the handler requires the body's key to be the same
 * (docs/cluster.md).
 */
export function optionalKeyFromQuery(query: string, route = '/get'): string | undefined {
  if (query === '') return undefined;
  if (PLAIN_KEY_QUERY.test(query)) return query.slice(4);
  const parsed = parseQuery(query);
  for (const name in parsed) if (name !== 'key') throw unknownParameter(name, ['key'], route);
  const key = parsed['key'];
  if (key === undefined) return undefined;
  if (Array.isArray(key)) throw badRequest('repeated_key', 'query parameter "key" must be given once');
  if (key === '') throw badRequest('empty_key', 'key must not be empty');
  return key;
}

/** The `:key` path segment of `/kv/:key`, percent-decoded; 400 when empty or badly encoded. */
export function keyFromPath(segment: string | undefined): string {
  if (segment === undefined || segment === '') throw badRequest('empty_key', 'key must not be empty');
  if (segment.indexOf('%') === -1) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('invalid_key', 'key is not valid percent-encoded UTF-8');
  }
}

/** Throws 413 if `key` is longer than `maxKeyBytes` in UTF-8. */
export function checkKeySize(key: string, maxKeyBytes: number): void {
  // Every UTF-16 unit takes 1 to 3 UTF-8 bytes: measure only when the answer is not already known.
  if (key.length * 3 <= maxKeyBytes) return;
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > maxKeyBytes) throw keyTooLarge(bytes, maxKeyBytes);
}
