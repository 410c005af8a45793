/**
 * The errors a client call can throw. Every one is a `SlabcacheError` with a
 * `code` to switch on:
 *
 *   SlabcacheServerError      the server (or the router in front of it) answered with an
 *                             error: `status`, `code` (ServerErrorCode), its `message`
 *   SlabcacheTimeoutError     'timeout': the call's time budget ran out
 *   SlabcacheAbortError       'aborted': the caller's AbortSignal fired (`cause` is its reason)
 *   SlabcacheConnectionError  'connection_failed': no answer from the node (refused, reset, closed)
 *   SlabcacheProtocolError    'bad_response': an answer this client cannot read
 *
 * Misses are not errors: `get` resolves undefined, `delete` false, `cas` 0.
 */

/**
 * The error codes a slabcache server answers with (packages/server/src/errors.ts),
 * and those of the HAProxy router of docs/cluster.md. A test checks this list
 * against the server's source.
 */
export const SERVER_ERROR_CODES = [
  'bad_request',
  'invalid_json',
  'invalid_utf8',
  'invalid_body',
  'missing_key',
  'empty_key',
  'repeated_key',
  'invalid_key',
  'key_mismatch',
  'invalid_content_type',
  'unknown_field',
  'unknown_parameter',
  'invalid_ttl',
  'invalid_precondition',
  'too_many_keys',
  'key_too_large',
  'value_too_large',
  'body_too_large',
  'reply_too_large',
  'precondition_failed',
  'not_found',
  'route_not_found',
  'method_not_allowed',
  'rate_limited',
  'unauthorized',
  'invalid_token',
  'insufficient_scope',
  'protected_mode',
  'cache_locked',
  'internal_error',
] as const;

export const ROUTER_ERROR_CODES = ['unroutable_key', 'unroutable_batch', 'request_timeout', 'bad_gateway', 'no_node', 'gateway_timeout'] as const;

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number] | (typeof ROUTER_ERROR_CODES)[number];

export type ClientErrorCode = 'timeout' | 'aborted' | 'connection_failed' | 'bad_response';

export class SlabcacheError extends Error {
  override name = 'SlabcacheError';
  constructor(
    readonly code: ServerErrorCode | ClientErrorCode,
    message: string,
    /** The base URL of the node the call went to, when one was chosen. */
    readonly node: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class SlabcacheServerError extends SlabcacheError {
  override name = 'SlabcacheServerError';
  declare readonly code: ServerErrorCode;
  constructor(
    /** The HTTP status: 400, 404, 412, 413, 429, 500, 503, ... */
    readonly status: number,
    code: ServerErrorCode,
    message: string,
    node: string,
    /** Seconds to wait, from Retry-After (429 rate_limited). */
    readonly retryAfter?: number,
  ) {
    super(code, message, node);
  }
}

export class SlabcacheTimeoutError extends SlabcacheError {
  override name = 'SlabcacheTimeoutError';
  declare readonly code: 'timeout';
  constructor(
    /** The budget that ran out, in ms. */
    readonly timeoutMs: number,
    node: string | undefined,
  ) {
    super('timeout', `no answer within the call's timeout of ${timeoutMs} ms`, node);
  }
}

export class SlabcacheAbortError extends SlabcacheError {
  override name = 'SlabcacheAbortError';
  declare readonly code: 'aborted';
  constructor(reason: unknown, node: string | undefined) {
    super('aborted', 'the call was aborted by its signal', node, { cause: reason });
  }
}

export class SlabcacheConnectionError extends SlabcacheError {
  override name = 'SlabcacheConnectionError';
  declare readonly code: 'connection_failed';
  constructor(node: string, cause: unknown) {
    const why = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : String(cause);
    super('connection_failed', `no answer from ${node} (${why})`, node, { cause });
  }
}

export class SlabcacheProtocolError extends SlabcacheError {
  override name = 'SlabcacheProtocolError';
  declare readonly code: 'bad_response';
  constructor(message: string, node: string) {
    super('bad_response', message, node);
  }
}

/** True when `error` is a server error with `code` (narrows its type). */
export function isServerError<C extends ServerErrorCode>(error: unknown, code?: C): error is SlabcacheServerError & { code: C } {
  return error instanceof SlabcacheServerError && (code === undefined || error.code === code);
}

const KNOWN_CODES: ReadonlySet<string> = new Set<string>([...SERVER_ERROR_CODES, ...ROUTER_ERROR_CODES]);

/** A server's error code as the union type, or undefined for a code this client does not know. */
export function knownServerCode(code: unknown): ServerErrorCode | undefined {
  return typeof code === 'string' && KNOWN_CODES.has(code) ? (code as ServerErrorCode) : undefined;
}
