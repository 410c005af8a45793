/**
 * Batched reads and writes start their memory misses together.
 *
 * At millions of keys a get waits on memory, not on work: its index slot and
 * then its entry's chunk are each a cache and TLB miss (PROFILE.md), and each
 * depends on the one before, so one get cannot overlap them. Across keys they
 * are independent. Before `getMany` or `setMany` runs a group's ordinary gets or
 * sets, `warm` reads the group's lines in passes that depend only on the pass
 * before:
 *
 *   1. every key's hash, then the first word of its home index slot;
 *   2. every key's probe run again (now in the caches) to the slot whose hash
 *      matches, then the header of that slot's chunk;
 *   3. with exact LRU, the headers of that entry's two neighbours, which the
 *      hit's relinking writes.
 *
 * Within a pass no read waits for another, so the CPU has many misses in
 * flight at once; the gets that follow find their lines in its caches.
 *
 * Warming only reads: it changes no entry, recency, statistic or key, and a
 * wrong guess (a hash collision, a neighbour that a get in the same group
 * relinks) only costs a wasted read. So a batch's results, hits, misses and
 * recency order are exactly those of the same gets one by one. It may run
 * without the lock while other threads write: every ref it reads is a whole
 * u32 word naming some chunk, and it follows nothing further than one header.
 */

import type { Chunks } from './chunk.js';
import type { HashIndex } from './hashIndex.js';
import type { KeyInput } from './keys.js';
import { NIL } from './layout.js';

/** Keys warmed at a time: enough misses in flight to fill the CPU's miss queue, few enough that their lines stay cached until the gets. */
export const WARM_GROUP = 32;

/**
 * Warming only pays when the reads would miss: below this many index slots
 * (8 MiB of index, about 730,000 `maxKeys`) the table and most entries stay in
 * the CPU's caches and it only adds work, about a quarter more per key on a
 * 10,000-key cache (PROFILE.md). Decided by the table's size, not by how full
 * it is: a key's home slot is anywhere in the table either way.
 */
export const WARM_MIN_INDEX_SLOTS = 1 << 20;

/** Probe slots warming looks at past a key's home before giving up (runs are short at 70 % load). */
const WARM_PROBE_LIMIT = 8;

export class LookupWarmer {
  readonly #keys: KeyInput;
  readonly #index: HashIndex;
  readonly #chunks: Chunks;
  /** Whether hits relink the entry (LRU): then its neighbours are warmed too. */
  readonly #neighbours: boolean;
  readonly #homes = new Int32Array(WARM_GROUP);
  readonly #hashes = new Uint32Array(WARM_GROUP);
  readonly #refs = new Uint32Array(WARM_GROUP);
  /** False for a table small enough to stay in the CPU's caches: then `warm` does nothing. */
  readonly worthwhile: boolean;
  /** Where the reads' values go, so that the compiler cannot drop them. */
  sink = 0;

  constructor(keys: KeyInput, index: HashIndex, chunks: Chunks, neighbours: boolean) {
    this.worthwhile = index.slots >= WARM_MIN_INDEX_SLOTS;
    this.#keys = keys;
    this.#index = index;
    this.#chunks = chunks;
    this.#neighbours = neighbours;
  }

  /**
   * Reads the lines the gets or sets of `keys[from]` … `keys[to - 1]` (at most
   * WARM_GROUP of them) will touch. A value that is not a key is passed over:
   * its own get or set reports it.
   */
  warm(keys: readonly unknown[], from: number, to: number): void {
    if (!this.worthwhile) return;
    const index = this.#index;
    const chunks = this.#chunks;
    const homes = this.#homes;
    const hashes = this.#hashes;
    const refs = this.#refs;
    const count = to - from;
    let sink = 0;
    // Pass 1: hashes, then home slots.
    for (let i = 0; i < count; i++) {
      const key = keys[from + i];
      const usable = (typeof key === 'string' || key instanceof Uint8Array) && this.#keys.prepare(key) >= 0;
      if (!usable) {
        homes[i] = -1;
        continue;
      }
      hashes[i] = this.#keys.hash;
      homes[i] = index.home(this.#keys.hash);
    }
    for (let i = 0; i < count; i++) if (homes[i]! >= 0) sink ^= index.refAt(homes[i]!);
    // Pass 2: the matching slot's chunk.
    for (let i = 0; i < count; i++) {
      refs[i] = 0;
      if (homes[i]! < 0) continue;
      let slot = homes[i]!;
      for (let step = 0; step < WARM_PROBE_LIMIT; step++, slot = index.next(slot)) {
        const ref = index.refAt(slot);
        if (ref === 0) break;
        if (index.hashAt(slot) === hashes[i]) {
          refs[i] = ref;
          break;
        }
      }
    }
    for (let i = 0; i < count; i++) if (refs[i] !== 0) sink ^= chunks.flags(refs[i]!);
    // Pass 3 (LRU): the neighbours the hit will relink.
    if (this.#neighbours) {
      for (let i = 0; i < count; i++) {
        const ref = refs[i]!;
        if (ref === 0) continue;
        const before = chunks.prev(ref);
        const after = chunks.next(ref);
        if (before !== NIL) sink ^= chunks.flags(before);
        if (after !== NIL) sink ^= chunks.flags(after);
      }
    }
    this.sink = sink;
  }
}
