/**
 * Eviction policies: what a hit does to an entry and which entry leaves when
 * the cache needs room. The cache (cache.ts) calls these hooks at fixed
 * points and knows nothing else about the policy; each policy keeps its order
 * in the one recency list (recencyList.ts) and its own bits in the chunk flags.
 *
 *   lru    exact least-recently-used, identical to npm lru-cache (lru.ts).
 *   sieve  SIEVE (Zhang et al., NSDI '24): a FIFO queue plus a visited bit; a
 *          hit only sets the bit (sieve.ts).
 */

export type PolicyName = 'lru' | 'sieve';

export interface EvictionPolicy {
  readonly name: PolicyName;
  /** True when hits and updates move the entry in the list (LRU); false when it stays put (SIEVE). */
  readonly reordersOnUse: boolean;
  /** A new entry was written into chunk `ref` (not yet linked): link it. */
  onInsert(ref: number): void;
  /** A get found the entry; `flags` are its chunk flags as just read. */
  onHit(ref: number, flags: number): void;
  /** A set overwrote the entry in place. */
  onUpdate(ref: number): void;
  /** The entry is leaving the cache (deleted, evicted, expired, replaced): unlink it. */
  onRemove(ref: number): void;
  /** The entry to evict next (never the walk sentinel). The cache holds at least one entry. */
  victim(): number;
  /**
   * The entry `victim()` will most likely return, if the policy knows it
   * without reading any chunk it has not read already (LRU: the tail), else
   * NIL. Changes nothing: it is a hint for starting the eviction's memory
   * reads early (cache.ts, #warmEviction).
   */
  likelyVictim(): number;
  /** The entry's chunk was copied from `from` to `to` (a page move). */
  onRelocate(from: number, to: number): void;
}
