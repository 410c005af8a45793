/**
 * Hash index: open addressing with linear probing over one u32 array.
 *
 * A slot holds 0 when empty, else `(tag << idBits) | (id + 1)`: the entry id
 * plus the top bits of the key's hash as a tag, so most probes that meet
 * another key are rejected without reading the entry or its key bytes. The
 * home slot of a key is `hash & mask`; the table is a power of two, at most
 * 70% full (layout.ts), so probe runs stay short.
 *
 * Deletion is backward-shift (no tombstones): after emptying slot i, later
 * members of the probe run move back into the hole when their home slot does
 * not lie cyclically in (i, j]. The table therefore never degrades, however
 * many deletes it sees.
 *
 * The index does not compare keys itself: `find` hands candidates to a
 * `matches(id)` predicate supplied by the cache, which owns the key bytes.
 */

import { E_HASH, ENTRY_WORDS, type Geometry, type Views } from './layout.js';

export type EntryId = number & { readonly __brand: 'EntryId' };

export const NOT_FOUND = -1;

export class HashIndex {
  readonly #slots: Uint32Array;
  readonly #entry: Uint32Array;
  readonly #mask: number;
  readonly #idBits: number;
  readonly #idMask: number;

  constructor(views: Views, geometry: Geometry) {
    this.#slots = views.index;
    this.#entry = views.entry;
    this.#mask = geometry.indexCapacity - 1;
    this.#idBits = geometry.idBits;
    this.#idMask = geometry.idBits === 32 ? 0xffffffff : 2 ** geometry.idBits - 1;
  }

  /** The tag stored beside an id for a key of this hash: its top (32 - idBits) bits. */
  #tagOf(hash: number): number {
    return this.#idBits >= 32 ? 0 : hash >>> this.#idBits;
  }

  /**
   * The slot of the entry whose key has `hash` and satisfies `matches`, or
   * NOT_FOUND. `matches` sees only ids whose tag agrees with the hash.
   */
  findSlot(hash: number, matches: (id: EntryId) => boolean): number {
    const slots = this.#slots;
    const mask = this.#mask;
    const idBits = this.#idBits;
    const idMask = this.#idMask;
    const tag = this.#tagOf(hash);
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const word = slots[i];
      if (word === 0) return NOT_FOUND;
      if (word >>> idBits === tag && matches(((word & idMask) - 1) as EntryId)) return i;
    }
  }

  /** The id stored in an occupied slot. */
  idAt(slot: number): EntryId {
    return ((this.#slots[slot] & this.#idMask) - 1) as EntryId;
  }

  /** Adds entry `id` whose key hashes to `hash`. The key must not be in the index already. */
  insert(id: EntryId, hash: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = hash & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = ((this.#tagOf(hash) << this.#idBits) | (id + 1)) >>> 0;
  }

  /** The slot that holds entry `id` (which must be indexed). */
  slotOfId(id: EntryId): number {
    const slots = this.#slots;
    const mask = this.#mask;
    const want = id + 1;
    for (let i = this.#entry[id * ENTRY_WORDS + E_HASH] & mask; ; i = (i + 1) & mask) {
      if ((slots[i] & this.#idMask) === want) return i;
    }
  }

  /** Empties `slot` and shifts the rest of its probe run back (backward-shift deletion). */
  removeSlot(slot: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let hole = slot;
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const word = slots[j];
      if (word === 0) break;
      const home = this.#entry[((word & this.#idMask) - 1) * ENTRY_WORDS + E_HASH] & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots[hole] = word;
        hole = j;
      }
    }
    slots[hole] = 0;
  }

  /** Empties the whole table. */
  clear(): void {
    this.#slots.fill(0);
  }

  get capacity(): number {
    return this.#mask + 1;
  }
}
