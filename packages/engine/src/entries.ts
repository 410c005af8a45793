/**
 * Entry ids: the rows of the entry table (layout.ts), handed out and taken back.
 *
 * Freed ids form a stack linked through the `next` array; ids never used yet
 * come from a bump counter, so the table's pages are touched only as the cache
 * grows. A free id has `ref` = NIL, which is how the TTL sweep and the
 * invariant checker tell live rows from free ones.
 */

import type { EntryId } from './hashIndex.js';
import { E_NEXT, E_REF, ENTRY_WORDS, META_ENTRY_BUMP, META_ENTRY_FREE, NIL, type Views } from './layout.js';

export class EntryTable {
  readonly #v: Views;

  constructor(views: Views) {
    this.#v = views;
  }

  /** An unused id. The caller guarantees fewer than maxKeys ids are in use. */
  alloc(): EntryId {
    const meta = this.#v.metaU32;
    const free = meta[META_ENTRY_FREE];
    if (free !== NIL) {
      meta[META_ENTRY_FREE] = this.#v.entry[free * ENTRY_WORDS + E_NEXT];
      return free as EntryId;
    }
    const id = meta[META_ENTRY_BUMP];
    meta[META_ENTRY_BUMP] = id + 1;
    return id as EntryId;
  }

  free(id: EntryId): void {
    const v = this.#v;
    v.entry[id * ENTRY_WORDS + E_REF] = NIL;
    v.entry[id * ENTRY_WORDS + E_NEXT] = v.metaU32[META_ENTRY_FREE];
    v.metaU32[META_ENTRY_FREE] = id;
  }

  /** True when `id` holds a live entry. Ids at or above the bump were never used. */
  isLive(id: number): boolean {
    return id < this.#v.metaU32[META_ENTRY_BUMP] && this.#v.entry[id * ENTRY_WORDS + E_REF] !== NIL;
  }

  /** Ids below this have been used at least once. */
  get highWater(): number {
    return this.#v.metaU32[META_ENTRY_BUMP];
  }
}
