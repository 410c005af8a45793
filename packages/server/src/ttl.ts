/**
 * Time to live over HTTP: how a client gives one, and how a read shows what
 * is left of it.
 *
 *   given as      /put and /mset JSON: "ttl": <ms>     PUT /kv/<key>?ttl=<ms>
 *   default       DEFAULT_TTL (ms; 0 = entries never expire), the engine's `ttl` option
 *   ttl 0         never expires, even when DEFAULT_TTL is set
 *   shown as      the reply header TTL_HEADER (ms left, rounded down) on /get and
 *                 /kv reads of an entry that expires; absent for one that does not
 *
 * Expiry itself is the engine's: an expired entry is never returned, and is
 * reclaimed on the next read of its key or by the engine's sweep.
 */

import { badRequest, type HttpError } from './errors.js';

/** Longest TTL accepted: ten years, in ms. Longer is refused rather than silently capped. */
export const MAX_TTL_MS = 315_360_000_000;

/** Reply header with the milliseconds an entry has left. */
export const TTL_HEADER = 'x-ttl-ms';

const DIGITS = /^[0-9]{1,15}$/;

/** The TTL of a `?ttl=` query parameter; 400 `invalid_ttl` unless it is a whole number of ms within MAX_TTL_MS. */
export function ttlFromText(text: string): number {
  const ttl = DIGITS.test(text) ? Number(text) : NaN;
  if (!(ttl <= MAX_TTL_MS)) throw invalidTtl(JSON.stringify(text));
  return ttl;
}

/**
 * Checks a TTL that arrived as a JSON number (the schema has already checked
 * it is an integer ≥ 0); `where` names the field in the error, e.g. `"ttl"`.
 */
export function checkTtl(ttl: number, where: string): number {
  if (ttl > MAX_TTL_MS) throw invalidTtl(String(ttl), where);
  return ttl;
}

function invalidTtl(given: string, where = 'ttl'): HttpError {
  return badRequest(
    'invalid_ttl',
    `${where} must be a whole number of milliseconds from 0 (never expires) to ${MAX_TTL_MS} (ten years), got ${given}`,
  );
}

/** ms left as the header's value: whole milliseconds, rounded down (engine TTLs are whole ms already). */
export function ttlHeaderValue(remainingTTL: number): string {
  return String(Math.floor(remainingTTL));
}
