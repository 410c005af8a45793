/**
 * The cache lock: one mutex in the shared meta buffer, so that threads
 * attached to the same cache take turns. It is a futex-style mutex (Drepper,
 * "Futexes Are Tricky", mutex #2): the word is 0 (free), 1 (held) or 2 (held,
 * and someone may be waiting), so an uncontended acquire/release is one
 * compare-and-swap and one atomic subtract, with no wake-up call.
 *
 * Waits are bounded. A thread that dies while holding the lock (a worker
 * terminated mid-operation) would otherwise freeze every other thread for
 * ever; instead their operations fail after `timeoutMs` with a LockTimeoutError
 * naming the thread that held it.
 *
 * A cache used by one thread only never takes the lock (see cache.ts).
 */

import { threadId } from 'node:worker_threads';
import { META_LOCK, META_LOCK_OWNER } from './layout.js';

const FREE = 0;
const HELD = 1;
const CONTENDED = 2;
/** Compare-and-swap attempts before sleeping: most critical sections last about a microsecond. */
const SPINS = 100;

export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
  readonly code = 'ERR_CACHE_LOCK_TIMEOUT';
  constructor(
    readonly timeoutMs: number,
    readonly ownerThreadId: number,
    /** What was not released: the lock, or a lock-free reader's bit write (seqlock.ts). */
    what = 'cache lock',
  ) {
    super(
      `${what} not released within ${timeoutMs} ms (held by thread ${ownerThreadId}); ` +
        'a thread may have died while holding it',
    );
  }
}

export class CacheLock {
  readonly #word: Int32Array;
  readonly #timeoutMs: number;

  constructor(metaI32: Int32Array, timeoutMs: number) {
    this.#word = metaI32;
    this.#timeoutMs = timeoutMs;
  }

  acquire(): void {
    const word = this.#word;
    let state = Atomics.compareExchange(word, META_LOCK, FREE, HELD);
    if (state !== FREE) this.#acquireSlow(state);
    // Diagnostics only: who to name if another thread times out.
    word[META_LOCK_OWNER] = threadId + 1;
  }

  release(): void {
    // From HELD straight to FREE: nobody waits, nobody to wake.
    if (Atomics.sub(this.#word, META_LOCK, 1) !== HELD) {
      Atomics.store(this.#word, META_LOCK, FREE);
      Atomics.notify(this.#word, META_LOCK, 1);
    }
  }

  #acquireSlow(initial: number): void {
    const word = this.#word;
    let state = initial;
    for (let i = 0; i < SPINS && state !== FREE; i++) {
      state = Atomics.compareExchange(word, META_LOCK, FREE, HELD);
      if (state === FREE) return;
    }
    const deadline = performance.now() + this.#timeoutMs;
    // Announce a waiter (state 2), then sleep until the holder's release wakes us.
    if (state !== CONTENDED) state = Atomics.exchange(word, META_LOCK, CONTENDED);
    while (state !== FREE) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new LockTimeoutError(this.#timeoutMs, (word[META_LOCK_OWNER] ?? 1) - 1);
      Atomics.wait(word, META_LOCK, CONTENDED, remaining);
      state = Atomics.exchange(word, META_LOCK, CONTENDED);
    }
  }
}
