/**
 * `stats()`: the cache's counters under memcached's names (get_hits, cmd_set,
 * curr_items, evictions, …), plus the memory picture per size class. Counters
 * live in the shared meta buffer, one row per cache instance (layout.ts
 * STAT_*); the rows are summed here, so every thread attached to a cache
 * reports the same numbers.
 */

import {
  G_BYTES,
  G_SIZE,
  MAX_STAT_ROWS,
  META_ITEMS,
  STAT_COUNT,
  STAT_CAS_BADVAL,
  STAT_CAS_HITS,
  STAT_CAS_MISSES,
  STAT_CHUNKS_RELOCATED,
  STAT_LOCK_FREE_FALLBACKS,
  STAT_LOCK_FREE_READS,
  STAT_LOCK_FREE_RETRIES,
  STAT_CLEARS,
  STAT_CMD_HAS,
  STAT_CMD_PEEK,
  STAT_CMD_SET,
  STAT_DELETE_HITS,
  STAT_DELETE_MISSES,
  STAT_EVICTED_UNFETCHED,
  STAT_EVICTIONS_BYTES,
  STAT_EVICTIONS_SIZE,
  STAT_EVICTIONS_KEYS,
  STAT_EXPIRED_UNFETCHED,
  STAT_GET_EXPIRED,
  STAT_GET_HITS,
  STAT_GET_MISSES,
  STAT_RECLAIMED,
  STAT_SET_REFUSED,
  STAT_SIEVE_PASSED,
  STAT_SLABS_MOVED,
  STAT_TOTAL_ITEMS,
  type Geometry,
  type Views,
} from './layout.js';
import type { SizeClasses } from './sizeClasses.js';

export interface SizeClassStats {
  /** Class number, 0 = smallest chunks. */
  readonly id: number;
  readonly chunk_size: number;
  readonly chunks_per_page: number;
  /** Pages this class owns now. */
  readonly total_pages: number;
  readonly used_chunks: number;
  readonly free_chunks: number;
  /** Header + key + value bytes of the entries stored here. */
  readonly mem_requested: number;
  /** used_chunks × chunk_size − mem_requested: bytes lost to rounding up to the chunk size. */
  readonly wasted: number;
  /** Entries evicted from this class (any cause). */
  readonly evictions: number;
}

export interface CacheStats {
  /** `get`/`getBytes` calls that found a live entry. */
  readonly get_hits: number;
  /** `get`/`getBytes` calls that found nothing (includes get_expired). */
  readonly get_misses: number;
  /** `get`/`getBytes` calls that found an entry whose TTL had passed. */
  readonly get_expired: number;
  /** get_hits + get_misses. */
  readonly cmd_get: number;
  /** `set` calls, stored or refused (total_items + set_refused). */
  readonly cmd_set: number;
  readonly cmd_peek: number;
  readonly cmd_has: number;
  /** `set` calls refused (key or value over its limit, wrong type): nothing was changed. */
  readonly set_refused: number;
  readonly delete_hits: number;
  readonly delete_misses: number;
  /** Entries in the cache now. */
  readonly curr_items: number;
  /** Values ever stored: every successful `set`. */
  readonly total_items: number;
  /** Header + key + value bytes of the entries in the cache now. */
  readonly bytes: number;
  /** Key + value bytes of the entries in the cache now: what maxSize bounds (lru-cache's calculatedSize). */
  readonly payload_bytes: number;
  /** Slab memory the cache may use: whole pages within maxBytes. */
  readonly limit_maxbytes: number;
  /** maxSize; 0 = no bound on the key + value bytes. */
  readonly limit_maxsize: number;
  /** maxKeys. */
  readonly limit_maxkeys: number;
  /** Live entries removed to make room, all causes. */
  readonly evictions: number;
  /**
   * Evictions by cause: `keys` when maxKeys was reached, `bytes` when slab
   * memory ran out, `size` when the key + value bytes would have passed maxSize.
   */
  readonly evictions_by_cause: { readonly keys: number; readonly bytes: number; readonly size: number };
  /** Evicted entries that were never read. */
  readonly evicted_unfetched: number;
  /** Entries that expired without ever being read. */
  readonly expired_unfetched: number;
  /** Expired entries removed (on access, by eviction, or by the sweep). */
  readonly reclaimed: number;
  /** Pages that moved from one size class back to the pool for another. */
  readonly slabs_moved: number;
  /** Live chunks copied to another page so that their page could move. */
  readonly chunks_relocated: number;
  readonly clears: number;
  /** SIEVE only: entries the hand passed over (their visited bit cleared) while looking for victims. */
  readonly sieve_passed: number;
  /** setIf/deleteIf outcomes (memcached's names): stored or deleted / another version / no entry. */
  readonly cas_hits: number;
  readonly cas_badval: number;
  readonly cas_misses: number;
  /**
   * A SIEVE cache shared between threads reads without the lock (seqlock.ts):
   * reads done so, tries thrown away because a writer changed what they read,
   * and reads that fell back to the lock.
   */
  readonly lock_free_reads: number;
  readonly lock_free_retries: number;
  readonly lock_free_fallbacks: number;
  readonly page_size: number;
  /** Pages owned by a size class now (slab_bytes = total_pages × page_size). */
  readonly total_pages: number;
  readonly slab_bytes: number;
  /** Pages ever handed out: what the arena has touched (resident) so far. */
  readonly touched_pages: number;
  /** Bytes lost to size-class rounding, over all classes. */
  readonly wasted_bytes: number;
  /** Memory of the hash index, fixed by maxKeys (8 bytes a slot; touched as used). */
  readonly index_bytes: number;
  readonly index_slots: number;
  /** Classes that hold at least one page. */
  readonly classes: readonly SizeClassStats[];
}

/** The event counters of every thread, added up. */
function sumRows(v: Views): Float64Array {
  const sum = new Float64Array(STAT_COUNT);
  for (let row = 0; row < MAX_STAT_ROWS; row++) {
    for (let i = 0; i < STAT_COUNT; i++) sum[i]! += v.statRows[row * STAT_COUNT + i]!;
  }
  return sum;
}

export function collectStats(v: Views, classes: SizeClasses, g: Geometry, touchedPages: number): CacheStats {
  const s = sumRows(v);
  const perClass: SizeClassStats[] = [];
  let totalPages = 0;
  let wasted = 0;
  for (let c = 0; c < classes.count; c++) {
    const pages = v.classPages[c];
    if (pages === 0 && v.classLiveChunks[c] === 0) continue;
    const chunkSize = classes.chunkBytes[c];
    const used = v.classLiveChunks[c];
    const requested = v.classRequestedBytes[c];
    totalPages += pages;
    wasted += used * chunkSize - requested;
    perClass.push({
      id: c,
      chunk_size: chunkSize,
      chunks_per_page: classes.chunksPerPage[c],
      total_pages: pages,
      used_chunks: used,
      free_chunks: v.classFreeChunks[c],
      mem_requested: requested,
      wasted: used * chunkSize - requested,
      evictions: v.classEvictions[c],
    });
  }
  const hits = s[STAT_GET_HITS];
  const misses = s[STAT_GET_MISSES];
  const byKeys = s[STAT_EVICTIONS_KEYS];
  const byBytes = s[STAT_EVICTIONS_BYTES];
  const bySize = s[STAT_EVICTIONS_SIZE];
  return {
    get_hits: hits,
    get_misses: misses,
    get_expired: s[STAT_GET_EXPIRED],
    cmd_get: hits + misses,
    cmd_set: s[STAT_CMD_SET],
    cmd_peek: s[STAT_CMD_PEEK],
    cmd_has: s[STAT_CMD_HAS],
    set_refused: s[STAT_SET_REFUSED],
    delete_hits: s[STAT_DELETE_HITS],
    delete_misses: s[STAT_DELETE_MISSES],
    curr_items: v.metaU32[META_ITEMS],
    total_items: s[STAT_TOTAL_ITEMS],
    bytes: v.global[G_BYTES]!,
    payload_bytes: v.global[G_SIZE]!,
    limit_maxbytes: g.maxPages * g.pageBytes,
    limit_maxsize: g.maxSize,
    limit_maxkeys: g.maxKeys,
    evictions: byKeys + byBytes + bySize,
    evictions_by_cause: { keys: byKeys, bytes: byBytes, size: bySize },
    evicted_unfetched: s[STAT_EVICTED_UNFETCHED],
    expired_unfetched: s[STAT_EXPIRED_UNFETCHED],
    reclaimed: s[STAT_RECLAIMED],
    slabs_moved: s[STAT_SLABS_MOVED],
    chunks_relocated: s[STAT_CHUNKS_RELOCATED],
    clears: s[STAT_CLEARS],
    sieve_passed: s[STAT_SIEVE_PASSED],
    cas_hits: s[STAT_CAS_HITS],
    cas_badval: s[STAT_CAS_BADVAL],
    cas_misses: s[STAT_CAS_MISSES],
    lock_free_reads: s[STAT_LOCK_FREE_READS],
    lock_free_retries: s[STAT_LOCK_FREE_RETRIES],
    lock_free_fallbacks: s[STAT_LOCK_FREE_FALLBACKS],
    page_size: g.pageBytes,
    total_pages: totalPages,
    slab_bytes: totalPages * g.pageBytes,
    touched_pages: touchedPages,
    wasted_bytes: wasted,
    index_bytes: g.indexSlots * 8,
    index_slots: g.indexSlots,
    classes: perClass,
  };
}
