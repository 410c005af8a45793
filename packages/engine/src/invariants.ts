/**
 * Debug-mode consistency checker: walks every structure of a cache and throws
 * an Error naming the first broken invariant. O(entries + pages + index
 * slots), so it is for tests and fuzzing, not for production paths.
 *
 * Invariants:
 *   LRU    the list from head to tail visits each live entry once; prev/next agree.
 *   entry  each live entry's chunk is LIVE, lies on a page of the size class
 *          its size maps to, at a chunk boundary below the page's carve mark;
 *          its stored hash is the hash of its key bytes.
 *   index  every live entry is found by its key; the index holds exactly the
 *          live entries.
 *   slabs  per page, free-list length + uncarved chunks = freeCount; a page is
 *          on its class's partial list iff it has a free chunk; per class, the
 *          page, free-chunk, live-chunk and requested-byte totals agree; pages
 *          owned + pages in the pool = pages handed out ≤ maxBytes / pageBytes.
 */

import type { SlabLruCache } from './cache.js';
import { CHUNK_LIVE, chunkFlags, chunkKeyLen, entryBytes, freeChunkNext, keyOffset } from './chunk.js';
import { hashBytes } from './hash.js';
import type { EntryId } from './hashIndex.js';
import {
  META_ITEMS,
  META_LRU_HEAD,
  META_LRU_TAIL,
  META_PAGE_BUMP,
  META_PAGE_FREE,
  META_RECLAIMABLE,
  NIL,
  NO_CLASS,
  STAT_BYTES,
  ENTRY_WORDS,
  E_HASH,
  E_NEXT,
  E_PREV,
  E_REF,
} from './layout.js';

export function checkInvariants(cache: SlabLruCache): void {
  const { views: v, geometry: g, classes, entries, seed } = (
    cache.constructor as typeof SlabLruCache
  ).unsafeInternals(cache);
  const fail = (message: string): never => {
    throw new Error(`cache invariant broken: ${message}`);
  };
  const items = v.metaU32[META_ITEMS];
  const highWater = entries.highWater;
  const refsPerPage = g.pageBytes / 8;

  /* ---- LRU list and entries ---- */
  const seen = new Uint8Array(highWater);
  const liveByClass = new Float64Array(classes.count);
  const requestedByClass = new Float64Array(classes.count);
  let bytes = 0;
  let count = 0;
  let prev = NIL;
  for (let id = v.metaU32[META_LRU_HEAD]; id !== NIL; id = v.entry[id * ENTRY_WORDS + E_NEXT]) {
    if (id === g.sentinel) {
      // The snapshot walk's cursor: linked, but not an entry.
      if (v.entry[id * ENTRY_WORDS + E_PREV] !== prev) fail(`sentinel's prev is wrong`);
      prev = id;
      continue;
    }
    if (id >= highWater) fail(`LRU reaches id ${id} beyond the high-water mark ${highWater}`);
    if (seen[id]) fail(`LRU visits id ${id} twice (cycle)`);
    seen[id] = 1;
    if (v.entry[id * ENTRY_WORDS + E_PREV] !== prev) fail(`prev[${id}] = ${v.entry[id * ENTRY_WORDS + E_PREV]}, expected ${prev}`);
    if (!entries.isLive(id)) fail(`LRU holds free id ${id}`);
    const ref = v.entry[id * ENTRY_WORDS + E_REF];
    if ((chunkFlags(v, ref) & CHUNK_LIVE) === 0) fail(`entry ${id}: chunk ${ref} is not LIVE`);
    const page = Math.floor(ref / refsPerPage);
    const c = v.pageClass[page];
    if (c === NO_CLASS) fail(`entry ${id}: page ${page} has no class`);
    const size = entryBytes(v, ref);
    if (classes.classFor(size) !== c) fail(`entry ${id}: ${size} bytes in class ${c}, expected ${classes.classFor(size)}`);
    const chunkBytes = classes.chunkBytes[c];
    const within = (ref - page * refsPerPage) * 8;
    if (within % chunkBytes !== 0) fail(`entry ${id}: chunk ${ref} not on a chunk boundary`);
    if (within / chunkBytes >= v.pageCarved[page]) fail(`entry ${id}: chunk beyond the carve mark`);
    const keyHash = hashBytes(v.arenaBytes, keyOffset(ref), chunkKeyLen(v, ref), seed);
    if (keyHash !== v.entry[id * ENTRY_WORDS + E_HASH]) fail(`entry ${id}: stored hash differs from its key's hash`);
    if (findByHash(cache, id as EntryId, keyHash) !== id) fail(`entry ${id}: not found in the index by its key`);
    liveByClass[c]++;
    requestedByClass[c] += size;
    bytes += size;
    count++;
    prev = id;
  }
  if (v.metaU32[META_LRU_TAIL] !== prev) fail(`tail is ${v.metaU32[META_LRU_TAIL]}, list ends at ${prev}`);
  if (count !== items) fail(`LRU holds ${count} entries, item count is ${items}`);
  if (v.stats[STAT_BYTES] !== bytes) fail(`bytes counter ${v.stats[STAT_BYTES]}, entries add up to ${bytes}`);
  for (let id = 0; id < highWater; id++) {
    if (entries.isLive(id) && !seen[id]) fail(`live id ${id} is not on the LRU list`);
  }

  /* ---- index ---- */
  let occupied = 0;
  for (let i = 0; i < v.index.length; i++) {
    if (v.index[i] === 0) continue;
    occupied++;
    const id = v.index[i] & (2 ** g.idBits - 1);
    if (id === 0 || !entries.isLive(id - 1)) fail(`index slot ${i} holds non-live id ${id - 1}`);
  }
  if (occupied !== items) fail(`index holds ${occupied} slots, item count is ${items}`);

  /* ---- slabs ---- */
  const pageBump = v.metaU32[META_PAGE_BUMP];
  if (pageBump > g.maxPages) fail(`${pageBump} pages handed out, only ${g.maxPages} fit in maxBytes`);
  const pagesByClass = new Float64Array(classes.count);
  const freeByClass = new Float64Array(classes.count);
  let owned = 0;
  for (let page = 0; page < pageBump; page++) {
    const c = v.pageClass[page];
    if (c === NO_CLASS) continue;
    owned++;
    pagesByClass[c]++;
    const perPage = classes.chunksPerPage[c];
    let free = perPage - v.pageCarved[page];
    for (let ref = v.pageFreeHead[page]; ref !== NIL; ref = freeChunkNext(v, ref)) {
      if (Math.floor(ref / refsPerPage) !== page) fail(`page ${page}: free list reaches chunk ${ref} on another page`);
      if ((chunkFlags(v, ref) & CHUNK_LIVE) !== 0) fail(`page ${page}: free list holds a LIVE chunk ${ref}`);
      if (++free > perPage) fail(`page ${page}: free list longer than the page`);
    }
    if (free !== v.pageFreeCount[page]) fail(`page ${page}: ${free} free chunks, freeCount says ${v.pageFreeCount[page]}`);
    freeByClass[c] += free;
  }
  let pooled = 0;
  for (let page = v.metaU32[META_PAGE_FREE]; page !== NIL; page = v.pageNext[page]) {
    if (v.pageClass[page] !== NO_CLASS) fail(`pooled page ${page} still belongs to class ${v.pageClass[page]}`);
    if (++pooled > pageBump) fail('page pool list has a cycle');
  }
  if (owned + pooled !== pageBump) fail(`${owned} owned + ${pooled} pooled pages, ${pageBump} handed out`);
  let reclaimable = 0;
  for (let c = 0; c < classes.count; c++) {
    const onPartial = new Set<number>();
    for (let page = v.classPartialHead[c]; page !== NIL; page = v.pageNext[page]) {
      if (onPartial.has(page)) fail(`class ${c}: partial list has a cycle`);
      onPartial.add(page);
      if (v.pageClass[page] !== c) fail(`class ${c}: partial list holds page ${page} of class ${v.pageClass[page]}`);
      if (v.pageFreeCount[page] === 0) fail(`class ${c}: full page ${page} on the partial list`);
    }
    for (let page = 0; page < pageBump; page++) {
      if (v.pageClass[page] === c && v.pageFreeCount[page] > 0 && !onPartial.has(page)) {
        fail(`class ${c}: page ${page} has free chunks but is not on the partial list`);
      }
    }
    if (v.classPages[c] !== pagesByClass[c]) fail(`class ${c}: ${pagesByClass[c]} pages, counter ${v.classPages[c]}`);
    if (v.classFreeChunks[c] !== freeByClass[c]) fail(`class ${c}: ${freeByClass[c]} free chunks, counter ${v.classFreeChunks[c]}`);
    if (v.classLiveChunks[c] !== liveByClass[c]) fail(`class ${c}: ${liveByClass[c]} live chunks, counter ${v.classLiveChunks[c]}`);
    if (v.classRequestedBytes[c] !== requestedByClass[c]) fail(`class ${c}: requested bytes disagree`);
    if (v.classFreeChunks[c] >= classes.chunksPerPage[c]) reclaimable++;
  }
  if (v.metaU32[META_RECLAIMABLE] !== reclaimable) fail(`reclaimable count ${v.metaU32[META_RECLAIMABLE]}, actual ${reclaimable}`);
}

/** Probes the index for `id` from its key's home slot, bounded by the table size. */
function findByHash(cache: SlabLruCache, id: EntryId, hash: number): number {
  const { views: v, geometry: g } = (cache.constructor as typeof SlabLruCache).unsafeInternals(cache);
  const mask = g.indexCapacity - 1;
  const idMask = 2 ** g.idBits - 1;
  for (let i = hash & mask, n = 0; n <= mask; i = (i + 1) & mask, n++) {
    const word = v.index[i];
    if (word === 0) return NIL;
    if ((word & idMask) === id + 1) return id;
  }
  return NIL;
}
