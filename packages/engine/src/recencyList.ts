/**
 * The recency list: an intrusive doubly linked list through the prev/next
 * words of the entry chunks (chunk.ts). The head is the most recently
 * inserted (LRU: used) entry, the tail the oldest; both ends live in the
 * shared meta words, so every thread walks the same list. No node objects
 * exist: a chunk ref is its own list node. Both eviction policies keep their
 * order here — LRU moves an entry to the head on every hit, SIEVE never moves
 * one (lru.ts, sieve.ts).
 *
 * Invariant (checked by invariants.ts): for every linked ref,
 *   next[prev[ref]] === ref (or ref is the head) and prev[next[ref]] === ref (or ref is the tail).
 *
 * The walk sentinel: a snapshot walks the list from tail to head over many
 * event-loop turns while the cache keeps changing. Its cursor is a node of its
 * own (SENTINEL_REF, in the arena's reserved bytes; never indexed, never
 * counted) that it moves one entry toward the head at a time, so entries that
 * move or disappear around it never invalidate the cursor. Policies step over
 * it when they look for a victim; iteration skips it.
 */

import type { Chunks } from './chunk.js';
import { META_LIST_HEAD, META_LIST_TAIL, NIL, SENTINEL_REF, type Views } from './layout.js';

export class RecencyList {
  readonly #meta: Uint32Array;
  readonly #chunks: Chunks;

  constructor(views: Views, chunks: Chunks) {
    this.#meta = views.metaU32;
    this.#chunks = chunks;
  }

  get head(): number {
    return this.#meta[META_LIST_HEAD]!;
  }

  get tail(): number {
    return this.#meta[META_LIST_TAIL]!;
  }

  /** The node after `ref` toward the tail (less recent), or NIL. */
  towardTail(ref: number): number {
    return this.#chunks.next(ref);
  }

  /** The node before `ref` toward the head (more recent), or NIL. */
  towardHead(ref: number): number {
    return this.#chunks.prev(ref);
  }

  /** The tail, stepping over the sentinel: the oldest entry, or NIL. */
  oldest(): number {
    const tail = this.#meta[META_LIST_TAIL]!;
    return tail === SENTINEL_REF ? this.#chunks.prev(tail) : tail;
  }

  /** Links an unlinked node as the head. */
  pushHead(ref: number): void {
    const chunks = this.#chunks;
    const head = this.#meta[META_LIST_HEAD]!;
    chunks.setPrev(ref, NIL);
    chunks.setNext(ref, head);
    if (head === NIL) this.#meta[META_LIST_TAIL] = ref;
    else chunks.setPrev(head, ref);
    this.#meta[META_LIST_HEAD] = ref;
  }

  /** Links an unlinked node as the tail. */
  pushTail(ref: number): void {
    const chunks = this.#chunks;
    const tail = this.#meta[META_LIST_TAIL]!;
    chunks.setNext(ref, NIL);
    chunks.setPrev(ref, tail);
    if (tail === NIL) this.#meta[META_LIST_HEAD] = ref;
    else chunks.setNext(tail, ref);
    this.#meta[META_LIST_TAIL] = ref;
  }

  /** Removes a linked node. */
  unlink(ref: number): void {
    const chunks = this.#chunks;
    const prev = chunks.prev(ref);
    const next = chunks.next(ref);
    // if head, the head moves to next; else prev skips over ref
    if (prev === NIL) this.#meta[META_LIST_HEAD] = next;
    else chunks.setNext(prev, next);
    // if tail, the tail moves to prev; else next points back past ref
    if (next === NIL) this.#meta[META_LIST_TAIL] = prev;
    else chunks.setPrev(next, prev);
  }

  /** Makes a linked node the head. */
  moveToHead(ref: number): void {
    if (this.#meta[META_LIST_HEAD] === ref) return;
    this.unlink(ref);
    this.pushHead(ref);
  }

  /** Moves linked node `ref` to just before (toward the head of) linked node `before`. */
  moveBefore(ref: number, before: number): void {
    const chunks = this.#chunks;
    this.unlink(ref);
    const prev = chunks.prev(before);
    chunks.setPrev(ref, prev);
    chunks.setNext(ref, before);
    chunks.setPrev(before, ref);
    if (prev === NIL) this.#meta[META_LIST_HEAD] = ref;
    else chunks.setNext(prev, ref);
  }

  /** A node's chunk moved from `from` to `to` (its links were copied with it): its neighbours follow. */
  relocate(from: number, to: number): void {
    const chunks = this.#chunks;
    const prev = chunks.prev(to);
    const next = chunks.next(to);
    if (prev === NIL) this.#meta[META_LIST_HEAD] = to;
    else chunks.setNext(prev, to);
    if (next === NIL) this.#meta[META_LIST_TAIL] = to;
    else chunks.setPrev(next, to);
    void from;
  }
}
