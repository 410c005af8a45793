/**
 * HTTP to one node over an undici keep-alive Pool, and the budget of a call:
 * one deadline and one abort signal shared by every attempt, retry and
 * failover the call makes.
 *
 * A reply is always read whole (or dropped) before the promise settles, so a
 * connection goes back to the pool in a known state. Errors come out as the
 * typed errors of errors.ts:
 *   no answer from the node        SlabcacheConnectionError (`refused` tells if it was never sent)
 *   the caller's signal fired      SlabcacheAbortError
 *   the budget ran out             SlabcacheTimeoutError
 *   an error reply                 SlabcacheServerError, built by `serverError`
 */

import { Pool } from 'undici';

import {
  knownServerCode,
  SlabcacheAbortError,
  SlabcacheConnectionError,
  SlabcacheProtocolError,
  SlabcacheServerError,
  SlabcacheTimeoutError,
} from './errors.js';

export interface HttpRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query, without the node's base path. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One server: its pool of keep-alive connections, and since when it is skipped. */
export class Node {
  readonly url: string;
  readonly #pool: Pool;
  readonly #basePath: string;
  /** Date.now() before which this node is not chosen (after it did not answer). */
  downUntil = 0;

  constructor(url: string, connections: number) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`node URL must be http: or https:, got ${JSON.stringify(url)}`);
    }
    if (parsed.search !== '' || parsed.hash !== '') throw new TypeError(`node URL must have no query or fragment: ${JSON.stringify(url)}`);
    this.#basePath = parsed.pathname.replace(/\/+$/, '');
    this.url = `${parsed.origin}${this.#basePath}`;
    this.#pool = new Pool(parsed.origin, { connections, pipelining: 1 });
  }

  /** Sends `request`; resolves with the whole reply. Throws SlabcacheConnectionError, or the budget's error. */
  async send(request: HttpRequest, budget: Budget): Promise<HttpReply> {
    try {
      const reply = await this.#pool.request({
        method: request.method,
        path: this.#basePath + request.path,
        headers: request.headers ?? {},
        body: request.body ?? null,
        signal: budget.signal,
      });
      const body = Buffer.from(await reply.body.arrayBuffer());
      return { status: reply.statusCode, headers: reply.headers, body };
    } catch (error) {
      throw budget.explain(error, this.url) ?? new SlabcacheConnectionError(this.url, error);
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** True when a connection error means the request never reached the server (safe to send again anywhere). */
export function neverSent(error: SlabcacheConnectionError): boolean {
  return (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

const TIMED_OUT = Symbol('timed out');

/**
 * A call's deadline and abort signal. Make one per call, `dispose()` it when
 * the call settles (it holds a timer and a listener on the caller's signal).
 */
export class Budget {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onCallerAbort = (): void => this.#controller.abort(this.#callerSignal?.reason);
  readonly timeoutMs: number;

  constructor(timeoutMs: number, callerSignal: AbortSignal | undefined) {
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError(`timeout must be a positive number of ms, got ${String(timeoutMs)}`);
    this.timeoutMs = timeoutMs;
    this.#callerSignal = callerSignal;
    this.#timer = setTimeout(() => this.#controller.abort(TIMED_OUT), timeoutMs);
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) this.#controller.abort(callerSignal.reason);
      else callerSignal.addEventListener('abort', this.#onCallerAbort, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Throws the budget's error if it has run out or been aborted. */
  check(node: string | undefined): void {
    const error = this.explain(undefined, node);
    if (error !== undefined) throw error;
  }

  /** The timeout or abort error if the budget is spent (whatever `error` was), else undefined. */
  explain(error: unknown, node: string | undefined): SlabcacheTimeoutError | SlabcacheAbortError | undefined {
    const signal = this.#controller.signal;
    if (!signal.aborted) return undefined;
    if (signal.reason === TIMED_OUT) return new SlabcacheTimeoutError(this.timeoutMs, node);
    return new SlabcacheAbortError(this.#callerSignal?.reason ?? error, node);
  }

  /** Waits `ms`, or less if the budget runs out first (then throws its error). */
  async pause(ms: number, node: string | undefined): Promise<void> {
    if (ms > 0) {
      await new Promise<void>((resolve) => {
        const signal = this.#controller.signal;
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    this.check(node);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
  }
}

/** The typed error of an error reply: `{"error":{"code","message"}}`, or a protocol error if it is not one. */
export function serverError(reply: HttpReply, node: string): SlabcacheServerError | SlabcacheProtocolError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = knownServerCode(error?.code);
  if (code === undefined || typeof error?.message !== 'string') {
    return new SlabcacheProtocolError(`${node} answered ${reply.status} without a slabcache error: ${reply.body.toString('utf8', 0, 200)}`, node);
  }
  const retryAfter = Number(header(reply, 'retry-after'));
  return new SlabcacheServerError(reply.status, code, error.message, node, Number.isFinite(retryAfter) ? retryAfter : undefined);
}

/** One header's value (the first, if repeated). */
export function header(reply: HttpReply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
