/**
 * Recency order: an intrusive doubly linked list over the entry table's
 * `prev`/`next` arrays. The head is the most recently used entry, the tail the
 * least; both ends live in the shared meta words, so every thread walks the
 * same list. No node objects exist: an entry id is its own list node.
 *
 * Invariant (checked by invariants.ts): for every linked id,
 *   next[prev[id]] === id (or id is the head) and prev[next[id]] === id (or id is the tail).
 */

import type { EntryId } from './hashIndex.js';
import { META_LRU_HEAD, META_LRU_TAIL, NIL, type Views } from './layout.js';

export class LruList {
  readonly #meta: Uint32Array;
  readonly #prev: Uint32Array;
  readonly #next: Uint32Array;

  constructor(views: Views) {
    this.#meta = views.metaU32;
    this.#prev = views.prev;
    this.#next = views.next;
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
    this.#prev[id] = NIL;
    this.#next[id] = head;
    if (head === NIL) this.#meta[META_LRU_TAIL] = id;
    else this.#prev[head] = id;
    this.#meta[META_LRU_HEAD] = id;
  }

  /** Removes a linked id from the list. */
  unlink(id: EntryId): void {
    const prev = this.#prev[id];
    const next = this.#next[id];
    // if head, the head moves to next[id]; else prev skips over id
    if (prev === NIL) this.#meta[META_LRU_HEAD] = next;
    else this.#next[prev] = next;
    // if tail, the tail moves to prev[id]; else next points back past id
    if (next === NIL) this.#meta[META_LRU_TAIL] = prev;
    else this.#prev[next] = prev;
  }

  /** Makes a linked id the most recent entry. */
  moveToHead(id: EntryId): void {
    // if head already, nothing to do
    if (this.#meta[META_LRU_HEAD] === id) return;
    this.unlink(id);
    this.pushHead(id);
  }
}
