/**
 * Exact LRU, the default policy: every hit or update moves the entry to the
 * head of the recency list, and the victim is always the tail. Identical in
 * results and eviction order to npm lru-cache (a differential test replays
 * random operations against it).
 */

import type { EvictionPolicy } from './policy.js';
import type { RecencyList } from './recencyList.js';

export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru';
  readonly reordersOnUse = true;
  readonly #list: RecencyList;

  constructor(list: RecencyList) {
    this.#list = list;
  }

  onInsert(ref: number): void {
    this.#list.pushHead(ref);
  }

  onHit(ref: number): void {
    this.#list.moveToHead(ref);
  }

  onUpdate(ref: number): void {
    this.#list.moveToHead(ref);
  }

  onRemove(ref: number): void {
    this.#list.unlink(ref);
  }

  victim(): number {
    return this.#list.oldest();
  }

  likelyVictim(): number {
    return this.#list.oldest();
  }

  onRelocate(from: number, to: number): void {
    this.#list.relocate(from, to);
  }
}
