/**
 * The server's one error shape, and the mapping from anything a handler can
 * throw to it.
 *
 * Every failed request is answered with
 *   {"error": {"code": "<machine code>", "message": "<what went wrong>"}}
 * Handlers throw `HttpError` for client mistakes; the engine's
 * `CacheLimitError` becomes 413 naming the server setting behind the limit;
 * anything else is a 500 whose message is generic, so a stack trace or an
 * internal message never reaches a client (it is logged instead).
 */

import { CacheLimitError, LockTimeoutError } from '@slabcache/engine';

export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'invalid_utf8'
  | 'invalid_body'
  | 'missing_key'
  | 'empty_key'
  | 'repeated_key'
  | 'invalid_key'
  | 'key_mismatch'
  | 'invalid_content_type'
  | 'unknown_field'
  | 'unknown_parameter'
  | 'invalid_ttl'
  | 'invalid_precondition'
  | 'too_many_keys'
  | 'key_too_large'
  | 'value_too_large'
  | 'body_too_large'
  | 'reply_too_large'
  | 'precondition_failed'
  | 'not_found'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'unauthorized'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'protected_mode'
  | 'cache_locked'
  | 'internal_error';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Allow on a 405. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

export const badRequest = (code: ErrorCode, message: string): HttpError => new HttpError(400, code, message);

/** The setting names users configure, for messages about the engine's limits. */
const SETTING_OF_LIMIT = { maxKeyBytes: 'MAX_KEY_BYTES', maxValueBytes: 'MAX_VALUE_BYTES' } as const;

export function keyTooLarge(actual: number, limit: number): HttpError {
  return new HttpError(413, 'key_too_large', `key is ${actual} bytes, over the MAX_KEY_BYTES limit of ${limit} bytes`);
}

export function valueTooLarge(actual: number, limit: number): HttpError {
  return new HttpError(413, 'value_too_large', `value is ${actual} bytes, over the MAX_VALUE_BYTES limit of ${limit} bytes`);
}

/** The JSON body of an error reply; JSON.stringify escapes whatever the message holds. */
export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/**
 * Turns anything thrown into an HttpError. `internal` is true when the cause
 * was not a client mistake (the caller logs it).
 */
export function toHttpError(error: unknown): { readonly httpError: HttpError; readonly internal: boolean } {
  if (error instanceof HttpError) return { httpError: error, internal: false };
  if (error instanceof CacheLimitError) {
    const setting = SETTING_OF_LIMIT[error.limitName];
    const code = error.limitName === 'maxKeyBytes' ? 'key_too_large' : 'value_too_large';
    const what = error.limitName === 'maxKeyBytes' ? 'key' : 'value';
    return {
      httpError: new HttpError(413, code, `${what} is ${error.actual} bytes, over the ${setting} limit of ${error.limit} bytes`),
      internal: false,
    };
  }
  if (error instanceof LockTimeoutError) {
    // THREADS > 1: the shared cache's lock was held too long, most likely by a thread that died
    // holding it. Logged as internal (an operator must look), answered 503 so clients retry.
    return {
      httpError: new HttpError(503, 'cache_locked', 'the shared cache is locked by another server thread; try again'),
      internal: true,
    };
  }
  return { httpError: new HttpError(500, 'internal_error', 'internal server error'), internal: true };
}
