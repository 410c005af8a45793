/**
 * Recency order: an intrusive doubly linked list through the prev/next words
 * of the entry records (layout.ts). The head is the most recently used entry, the tail the
 * least; both ends live in the shared meta words, so every thread walks the
 * same list. No node objects exist: an entry id is its own list node.
 *
 * Invariant (checked by invariants.ts): for every linked id,
 *   next[prev[id]] === id (or id is the head) and prev[next[id]] === id (or id is the tail).
 */

import type { EntryId } from './hashIndex.js';
import { E_NEXT, E_PREV, ENTRY_WORDS, META_LRU_HEAD, META_LRU_TAIL, NIL, type Views } from './layout.js';

export class LruList {
  readonly #meta: Uint32Array;
  readonly #entry: Uint32Array;

  constructor(views: Views) {
    this.#meta = views.metaU32;
    this.#entry = views.entry;
  }

  get head(): EntryId {
    return this.#meta[META_LRU_HEAD] as EntryId;
  }

  get tail(): EntryId {
    return this.#meta[META_LRU_TAIL] as EntryId;
  }

  /** Links an unlinked id as the most recent entry. */
  pushHead(id: EntryId): void {
    const head = this.#meta[META_LRU_HEAD];
    this.#entry[id * ENTRY_WORDS + E_PREV] = NIL;
    this.#entry[id * ENTRY_WORDS + E_NEXT] = head;
    if (head === NIL) this.#meta[META_LRU_TAIL] = id;
    else this.#entry[head * ENTRY_WORDS + E_PREV] = id;
    this.#meta[META_LRU_HEAD] = id;
  }

  /** Removes a linked id from the list. */
  unlink(id: EntryId): void {
    const prev = this.#entry[id * ENTRY_WORDS + E_PREV];
    const next = this.#entry[id * ENTRY_WORDS + E_NEXT];
    // if head, the head moves to next[id]; else prev skips over id
    if (prev === NIL) this.#meta[META_LRU_HEAD] = next;
    else this.#entry[prev * ENTRY_WORDS + E_NEXT] = next;
    // if tail, the tail moves to prev[id]; else next points back past id
    if (next === NIL) this.#meta[META_LRU_TAIL] = prev;
    else this.#entry[next * ENTRY_WORDS + E_PREV] = prev;
  }

  /** Makes a linked id the most recent entry. */
  moveToHead(id: EntryId): void {
    // if head already, nothing to do
    if (this.#meta[META_LRU_HEAD] === id) return;
    this.unlink(id);
    this.pushHead(id);
  }
}
