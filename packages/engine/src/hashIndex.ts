/**
 * Hash index: open addressing with linear probing and Robin Hood ordering,
 * key hash → entry chunk.
 *
 * A slot is two u32 words, [hash, ref]: the key's full 32-bit hash and the
 * ref of the entry's chunk; ref 0 (the walk sentinel, never indexed) marks an
 * empty slot. Keeping the whole hash in the slot means a probe that meets
 * another key almost never touches that key's chunk (1 in 2^32), and deletion
 * knows every entry's home slot without reading any chunk.
 *
 * The table has `slots` = maxKeys / 0.7 slots, not a power of two: a key's
 * home slot is `floor(hash × slots / 2^32)` (Lemire's multiply-shift range
 * reduction, from the hash's high bits), which lets the table be sized to
 * the load instead of to the next power of two. It is at most 70 % full
 * (layout.ts says why 70).
 *
 * Robin Hood: an insert that meets an entry closer to its home than the
 * inserted one is to its own takes that slot and carries the other entry on.
 * Every probe run is then ordered by displacement, which keeps the longest
 * runs short at 70 % load and lets a lookup for an absent key stop as soon as
 * it meets an entry nearer its home than the lookup is to its own
 * (`displacement(slot) < distance`) instead of at the next empty slot.
 *
 * Deletion is backward-shift (no tombstones): after emptying a slot, the
 * following entries that are not in their home slot move back by one, until
 * an empty slot or an entry at home. The table therefore never degrades,
 * however many deletes it sees.
 *
 * The index does not compare keys: the cache walks a key's probe run
 * (`home`, `next`, `hashAt`, `refAt`, `displacement`) and compares
 * candidates itself.
 */

import type { Geometry, Views } from './layout.js';
import type { StripedSeqlock } from './seqlock.js';

export const NOT_FOUND = -1;
const TWO_32 = 0x1_0000_0000;

export class HashIndex {
  readonly #words: Uint32Array;
  readonly #slots: number;
  /**
   * Set while threads may read the index without the lock (a shared SIEVE
   * cache): every slot written is first marked in it (seqlock.ts).
   */
  guard: StripedSeqlock | null = null;

  constructor(views: Views, geometry: Geometry) {
    this.#words = views.index;
    this.#slots = geometry.indexSlots;
  }

  get slots(): number {
    return this.#slots;
  }

  /**
   * The home slot of a hash. The product is below 2^61, so as a double it is
   * rounded (deterministically); its rounding error is under slots / 2^21, so
   * the quotient is always below `slots` (< 2^31): `| 0` is its floor.
   */
  home(hash: number): number {
    return ((hash * this.#slots) / TWO_32) | 0;
  }

  next(slot: number): number {
    return slot + 1 === this.#slots ? 0 : slot + 1;
  }

  hashAt(slot: number): number {
    return this.#words[slot * 2]!;
  }

  /** The chunk ref in a slot; 0 when the slot is empty. */
  refAt(slot: number): number {
    return this.#words[slot * 2 + 1]!;
  }

  setRef(slot: number, ref: number): void {
    this.guard?.touch(slot);
    this.#words[slot * 2 + 1] = ref;
  }

  /** The entry indexed at `slot` is about to change in place (for lock-free readers). */
  touch(slot: number): void {
    this.guard?.touch(slot);
  }

  /** How many slots past its home the entry in an occupied slot sits. */
  displacement(slot: number): number {
    const home = this.home(this.#words[slot * 2]!);
    return slot >= home ? slot - home : slot + this.#slots - home;
  }

  /** Adds an entry. The key must not be in the index already; the table is never full (70 % at most). */
  insert(hash: number, ref: number): void {
    const words = this.#words;
    const guard = this.guard;
    let slot = this.home(hash);
    for (let distance = 0; ; slot = this.next(slot), distance++) {
      if (words[slot * 2 + 1] === 0) break;
      const theirs = this.displacement(slot);
      if (theirs < distance) {
        // Robin Hood: the entry here is nearer its home than we are to ours; it moves on instead.
        guard?.touch(slot);
        const carriedHash = words[slot * 2]!;
        const carriedRef = words[slot * 2 + 1]!;
        words[slot * 2] = hash;
        words[slot * 2 + 1] = ref;
        hash = carriedHash;
        ref = carriedRef;
        distance = theirs;
      }
    }
    guard?.touch(slot);
    words[slot * 2] = hash;
    words[slot * 2 + 1] = ref;
  }

  /** The slot that holds `ref` (whose key hashes to `hash`); it must be indexed. */
  slotOf(hash: number, ref: number): number {
    const words = this.#words;
    let slot = this.home(hash);
    while (words[slot * 2 + 1] !== ref) slot = this.next(slot);
    return slot;
  }

  /** Empties `slot` and shifts the rest of its probe run back by one (backward-shift deletion). */
  removeSlot(slot: number): void {
    const words = this.#words;
    const guard = this.guard;
    let hole = slot;
    for (let j = this.next(hole); words[j * 2 + 1] !== 0 && this.displacement(j) > 0; j = this.next(j)) {
      guard?.touch(hole);
      words[hole * 2] = words[j * 2]!;
      words[hole * 2 + 1] = words[j * 2 + 1]!;
      hole = j;
    }
    guard?.touch(hole);
    words[hole * 2] = 0;
    words[hole * 2 + 1] = 0;
  }

  /** Empties the whole table. */
  clear(): void {
    this.#words.fill(0);
  }
}
