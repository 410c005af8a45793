/**
 * `cache.fetch(key)`: lru-cache's loader with in-flight de-duplication, the
 * usual defence against a cache stampede.
 *
 *   - A cached (live) value is returned at once, counted as a get.
 *   - Otherwise `fetchMethod(key, undefined, { signal, context })` runs, once
 *     per key however many callers ask meanwhile: they all wait for the same
 *     load. A value it resolves with is stored (with the call's `ttl`), then
 *     handed to every waiter; `undefined` stores nothing.
 *   - Errors are not cached: every waiter's promise rejects with the error,
 *     and the next fetch of the key runs the loader again.
 *   - A caller's `signal` aborting rejects that caller's promise with the
 *     signal's reason at once; the load itself is aborted (its signal fires)
 *     only when every waiting caller has aborted. A load that ends after that
 *     stores nothing.
 *
 * Not offered: lru-cache's stale-while-revalidate options (`allowStale`,
 * `noDeleteOnFetchRejection`, …): an expired entry is gone here, there is no
 * stale value to serve.
 *
 * In-flight loads are per cache instance (per thread): two threads attached to
 * one cache may each run a loader for the same key.
 */

import type { Key, Value } from './keys.js';
import type { FetchMethod } from './options.js';

export interface FetchOptions {
  /** Gives up waiting (rejects with the signal's reason); the load is aborted once nobody waits. */
  signal?: AbortSignal;
  /** Load even if a value is cached. */
  forceRefresh?: boolean;
  /** Passed to the fetchMethod as `options.context` (of the call that starts the load). */
  context?: unknown;
  /** TTL for the stored value, as in `set`. */
  ttl?: number;
}

/** What fetch needs of the cache. */
export interface FetchTarget {
  /** The cached value as it was set (a string, or a Buffer for bytes), counted as a get. */
  get(key: Key): Value | undefined;
  set(key: Key, value: Value, options?: { ttl?: number }): unknown;
}

interface Load {
  readonly promise: Promise<Value | undefined>;
  readonly controller: AbortController;
  waiters: number;
}

export class Fetcher {
  readonly #loads = new Map<string, Load>();
  readonly #target: FetchTarget;
  readonly #method: FetchMethod | undefined;

  constructor(target: FetchTarget, method: FetchMethod | undefined) {
    this.#target = target;
    this.#method = method;
  }

  /** The value of `key`: cached, or loaded once for every concurrent caller. */
  fetch(key: Key, options: FetchOptions = {}): Promise<Value | undefined> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!options.forceRefresh) {
      const cached = this.#target.get(key);
      if (cached !== undefined || this.#method === undefined) return Promise.resolve(cached);
    } else if (this.#method === undefined) {
      return Promise.resolve(this.#target.get(key));
    }
    const id = identity(key);
    let load = this.#loads.get(id);
    if (load === undefined) {
      load = this.#start(id, key, this.#method, options);
      this.#loads.set(id, load);
    }
    return this.#wait(load, signal);
  }

  /** Loads currently running (for tests and diagnostics). */
  get inFlight(): number {
    return this.#loads.size;
  }

  #start(id: string, key: Key, method: FetchMethod, options: FetchOptions): Load {
    const controller = new AbortController();
    const promise = (async () => {
      try {
        const value = await method(key, undefined, { signal: controller.signal, context: options.context });
        if (value !== undefined && !controller.signal.aborted) {
          this.#target.set(key, value, options.ttl === undefined ? undefined : { ttl: options.ttl });
        }
        return value;
      } finally {
        this.#loads.delete(id);
      }
    })();
    return { promise, controller, waiters: 0 };
  }

  #wait(load: Load, signal: AbortSignal | undefined): Promise<Value | undefined> {
    load.waiters++;
    if (signal === undefined) return load.promise;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        reject(signal.reason);
        if (--load.waiters === 0) load.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      load.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}

/** One string per key, so that a string and its UTF-8 bytes share a load, as they share an entry. */
function identity(key: Key): string {
  if (typeof key === 'string') return /^[\x00-\x7f]*$/.test(key) ? key : Buffer.from(key, 'utf8').toString('latin1');
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}
