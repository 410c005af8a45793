/**
 * Recency order: an intrusive doubly linked list through the prev/next words
 * of the entry records (layout.ts). The head is the most recently used entry, the tail the
 * least; both ends live in the shared meta words, so every thread walks the
 * same list. No node objects exist: an entry id is its own list node.
 *
 * Invariant (checked by invariants.ts): for every linked id,
 *   next[prev[id]] === id (or id is the head) and prev[next[id]] === id (or id is the tail).
 *
 * The walk sentinel: a snapshot walks the list from least to most recent over
 * many event-loop turns while the cache keeps changing. Its cursor is a node of
 * its own (id = geometry.sentinel, never indexed, never counted) that it moves
 * one entry toward the head at a time, so entries that move or disappear around
 * it never invalidate the cursor. Eviction looks past the sentinel
 * (`leastRecent`); nothing else ever meets it except iteration, which skips it.
 */

import type { EntryId } from './hashIndex.js';
import { E_NEXT, E_PREV, ENTRY_WORDS, META_LRU_HEAD, META_LRU_TAIL, NIL, type Views } from './layout.js';

export class LruList {
  readonly #meta: Uint32Array;
  readonly #entry: Uint32Array;
  readonly #sentinel: number;

  constructor(views: Views, sentinel: number) {
    this.#meta = views.metaU32;
    this.#entry = views.entry;
    this.#sentinel = sentinel;
  }

  get sentinel(): EntryId {
    return this.#sentinel as EntryId;
  }

  /** The least recently used entry (never the sentinel), or NIL. */
  leastRecent(): EntryId {
    const tail = this.#meta[META_LRU_TAIL];
    return (tail === this.#sentinel ? this.#entry[tail * ENTRY_WORDS + E_PREV] : tail) as EntryId;
  }

  /** The entry after `id` toward the tail (less recent), or NIL. */
  lessRecent(id: EntryId): EntryId {
    return this.#entry[id * ENTRY_WORDS + E_NEXT] as EntryId;
  }

  /** The entry before `id` toward the head (more recent), or NIL. */
  moreRecent(id: EntryId): EntryId {
    return this.#entry[id * ENTRY_WORDS + E_PREV] as EntryId;
  }

  /** Links an unlinked id as the least recent node. */
  pushTail(id: EntryId): void {
    const tail = this.#meta[META_LRU_TAIL];
    this.#entry[id * ENTRY_WORDS + E_NEXT] = NIL;
    this.#entry[id * ENTRY_WORDS + E_PREV] = tail;
    if (tail === NIL) this.#meta[META_LRU_HEAD] = id;
    else this.#entry[tail * ENTRY_WORDS + E_NEXT] = id;
    this.#meta[META_LRU_TAIL] = id;
  }

  /** Moves linked node `id` to just before (more recent than) linked node `before`. */
  moveBefore(id: EntryId, before: EntryId): void {
    this.unlink(id);
    const prev = this.#entry[before * ENTRY_WORDS + E_PREV];
    this.#entry[id * ENTRY_WORDS + E_PREV] = prev;
    this.#entry[id * ENTRY_WORDS + E_NEXT] = before;
    this.#entry[before * ENTRY_WORDS + E_PREV] = id;
    if (prev === NIL) this.#meta[META_LRU_HEAD] = id;
    else this.#entry[prev * ENTRY_WORDS + E_NEXT] = id;
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
