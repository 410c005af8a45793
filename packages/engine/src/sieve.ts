/**
 * SIEVE (Zhang, Yang, Yue, Vigfusson, Rashmi, NSDI '24): a FIFO queue plus
 * one visited bit per entry and a "hand".
 *
 *   insert   link at the head, visited = 0
 *   hit      visited = 1 (the entry does not move)
 *   evict    obj = hand ?? tail
 *            while obj.visited: obj.visited = 0; obj = obj.prev ?? tail
 *            hand = obj.prev;  evict obj
 *   remove   if hand == obj: hand = obj.prev
 *
 * ("prev" is toward the head: the hand sweeps from the oldest entry toward the
 * newest and wraps around.) A hit writes one bit into a header it has just
 * read and never touches the list, which is what lets reads run without
 * exclusive access. The visited bit is F_VISITED in the chunk flags; the hand
 * lives in the shared meta words (META_HAND), NIL meaning "start at the tail".
 * The walk sentinel is stepped over like a node that is never a victim, and
 * the hand never rests on it (the sentinel moves while a snapshot walks).
 */

import { F_VISITED, type Chunks } from './chunk.js';
import { META_HAND, NIL, SENTINEL_REF, type Views } from './layout.js';
import type { EvictionPolicy } from './policy.js';
import type { RecencyList } from './recencyList.js';

export class SievePolicy implements EvictionPolicy {
  readonly name = 'sieve';
  readonly reordersOnUse = false;
  readonly #list: RecencyList;
  readonly #chunks: Chunks;
  readonly #meta: Uint32Array;
  /** Called whenever a visited bit flips (`passed`: the hand cleared it), for statistics and snapshot walks. */
  readonly #onVisitedChange: (ref: number, passed: boolean) => void;

  constructor(views: Views, list: RecencyList, chunks: Chunks, onVisitedChange: (ref: number, passed: boolean) => void) {
    this.#list = list;
    this.#chunks = chunks;
    this.#meta = views.metaU32;
    this.#onVisitedChange = onVisitedChange;
  }

  onInsert(ref: number): void {
    this.#list.pushHead(ref);
  }

  onHit(ref: number, flags: number): void {
    // Write only when the bit changes: a hot entry's header line stays clean (and unshared between cores).
    if ((flags & F_VISITED) === 0) {
      this.#chunks.setFlags(ref, flags | F_VISITED);
      this.#onVisitedChange(ref, false);
    }
  }

  onUpdate(ref: number): void {
    const flags = this.#chunks.flags(ref);
    if ((flags & F_VISITED) === 0) {
      this.#chunks.setFlags(ref, flags | F_VISITED);
      this.#onVisitedChange(ref, false);
    }
  }

  onRemove(ref: number): void {
    if (this.#meta[META_HAND] === ref) this.#meta[META_HAND] = this.#pastEntry(ref);
    this.#list.unlink(ref);
  }

  /** The node after `ref` toward the head, stepping over the sentinel; NIL past the head. */
  #pastEntry(ref: number): number {
    const next = this.#list.towardHead(ref);
    return next === SENTINEL_REF ? this.#list.towardHead(next) : next;
  }

  victim(): number {
    const list = this.#list;
    const chunks = this.#chunks;
    let ref = this.#meta[META_HAND]!;
    if (ref === NIL) ref = list.tail;
    for (;;) {
      if (ref === SENTINEL_REF) {
        ref = list.towardHead(ref);
        if (ref === NIL) ref = list.tail;
        continue;
      }
      const flags = chunks.flags(ref);
      if ((flags & F_VISITED) === 0) break;
      chunks.setFlags(ref, flags & ~F_VISITED);
      this.#onVisitedChange(ref, true);
      ref = list.towardHead(ref);
      if (ref === NIL) ref = list.tail;
    }
    this.#meta[META_HAND] = this.#pastEntry(ref);
    return ref;
  }

  /**
   * NIL: the hand may have to pass visited entries first, each a chunk not yet
   * read. (Hinting the entry at the hand was tried: no measurable gain at 5M
   * keys, PROFILE.md.)
   */
  likelyVictim(): number {
    return NIL;
  }

  onRelocate(from: number, to: number): void {
    this.#list.relocate(from, to);
    if (this.#meta[META_HAND] === from) this.#meta[META_HAND] = to;
  }
}
