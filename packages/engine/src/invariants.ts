/**
 * Debug-mode consistency checker: walks every structure of a cache and throws
 * an Error naming the first broken invariant. O(entries + pages + index
 * slots), so it is for tests and fuzzing, not for production paths.
 *
 * Invariants:
 *   list   from head to tail it visits each live entry once (and the walk
 *          sentinel at most once); prev/next agree; head and tail match.
 *   entry  each listed chunk is LIVE, lies on a page of the size class its
 *          size maps to, at a chunk boundary below the page's carve mark.
 *   index  every listed entry is found by its key, in a slot that holds its
 *          key's hash; the index holds exactly the listed entries; probe runs
 *          are in Robin Hood order (an entry is at most one slot further from
 *          home than the entry before it, and at home after an empty slot).
 *   slabs  per page, free-list length + uncarved chunks = freeCount; a page is
 *          on its class's partial list iff it has a free chunk; per class, the
 *          page, free-chunk, live-chunk and requested-byte totals agree; pages
 *          owned + pages in the pool = pages handed out ≤ maxBytes / pageBytes.
 *   counts items, bytes and entries with an expiry match the entries.
 *   sieve  the hand is NIL or a listed entry.
 */

import type { SlabLruCache } from './cache.js';
import { F_EXPIRES } from './chunk.js';
import { hashBytes } from './hash.js';
import type { HashIndex } from './hashIndex.js';
import {
  G_BYTES,
  G_SIZE,
  META_EXPIRING_ITEMS,
  META_HAND,
  META_ITEMS,
  META_LIST_HEAD,
  META_LIST_TAIL,
  META_PAGE_BUMP,
  META_PAGE_FREE,
  META_RECLAIMABLE,
  NIL,
  NO_CLASS,
  SENTINEL_REF,
} from './layout.js';

export function checkInvariants(cache: SlabLruCache): void {
  const { views: v, geometry: g, classes, index, slabs, chunks, seed } = (
    cache.constructor as typeof SlabLruCache
  ).unsafeInternals(cache);
  const fail = (message: string): never => {
    throw new Error(`cache invariant broken: ${message}`);
  };
  const items = v.metaU32[META_ITEMS]!;
  const arena = v.arenaBytes;

  /* ---- list and entries ---- */
  const listed = new Set<number>();
  const liveByClass = new Float64Array(classes.count);
  const requestedByClass = new Float64Array(classes.count);
  let bytes = 0;
  let payload = 0;
  let expiring = 0;
  let prev = NIL;
  let sentinelSeen = false;
  for (let ref = v.metaU32[META_LIST_HEAD]!; ref !== NIL; ref = chunks.next(ref)) {
    if (chunks.prev(ref) !== prev) fail(`prev of ${ref} is ${chunks.prev(ref)}, expected ${prev}`);
    prev = ref;
    if (ref === SENTINEL_REF) {
      if (sentinelSeen) fail('the walk sentinel is listed twice (cycle)');
      sentinelSeen = true;
      continue;
    }
    if (listed.has(ref)) fail(`the list visits chunk ${ref} twice (cycle)`);
    listed.add(ref);
    if (listed.size > items) fail(`the list holds more than the ${items} entries counted`);
    if (!chunks.isLive(ref)) fail(`chunk ${ref} is listed but not LIVE`);
    const page = slabs.pageOf(ref);
    if (page < 0 || page >= g.maxPages) fail(`chunk ${ref} lies outside the pages`);
    const c = v.pageClass[page]!;
    if (c === NO_CLASS) fail(`chunk ${ref}: page ${page} has no class`);
    const size = chunks.entryBytes(ref);
    if (classes.classFor(size) !== c) fail(`chunk ${ref}: ${size} bytes in class ${c}, expected ${classes.classFor(size)}`);
    const chunkBytes = classes.chunkBytes[c]!;
    const within = (ref - slabs.pageStart(page)) * 4;
    if (within % chunkBytes !== 0) fail(`chunk ${ref} not on a chunk boundary`);
    if (within / chunkBytes >= v.pageCarved[page]!) fail(`chunk ${ref} beyond the carve mark`);
    const hash = hashBytes(arena, chunks.keyStart(ref), chunks.keyLen(ref), seed);
    if (!indexHolds(index, hash, ref)) fail(`chunk ${ref}: not found in the index by its key's hash`);
    if ((chunks.flags(ref) & F_EXPIRES) !== 0) expiring++;
    liveByClass[c]++;
    requestedByClass[c] += size;
    bytes += size;
    payload += chunks.keyLen(ref) + chunks.valueLen(ref);
  }
  if (v.metaU32[META_LIST_TAIL] !== prev) fail(`tail is ${v.metaU32[META_LIST_TAIL]}, list ends at ${prev}`);
  if (listed.size !== items) fail(`the list holds ${listed.size} entries, item count is ${items}`);
  if (v.global[G_BYTES] !== bytes) fail(`bytes counter ${v.global[G_BYTES]}, entries add up to ${bytes}`);
  if (v.global[G_SIZE] !== payload) fail(`key + value bytes counter ${v.global[G_SIZE]}, entries add up to ${payload}`);
  if (g.maxSize !== 0 && payload > g.maxSize) fail(`entries hold ${payload} key + value bytes, over maxSize ${g.maxSize}`);
  if (v.metaU32[META_EXPIRING_ITEMS] !== expiring) fail(`${expiring} entries expire, counter says ${v.metaU32[META_EXPIRING_ITEMS]}`);
  const hand = v.metaU32[META_HAND]!;
  if (hand !== NIL && !listed.has(hand)) fail(`the SIEVE hand points at ${hand}, not a listed entry`);

  /* ---- index ---- */
  let occupied = 0;
  for (let slot = 0; slot < index.slots; slot++) {
    const ref = index.refAt(slot);
    if (ref === 0) continue;
    occupied++;
    if (!listed.has(ref)) fail(`index slot ${slot} holds chunk ${ref}, which is not a listed entry`);
    const before = slot === 0 ? index.slots - 1 : slot - 1;
    const limit = index.refAt(before) === 0 ? 0 : index.displacement(before) + 1;
    if (index.displacement(slot) > limit) fail(`index slot ${slot} breaks Robin Hood order`);
  }
  if (occupied !== items) fail(`index holds ${occupied} slots, item count is ${items}`);

  /* ---- slabs ---- */
  const pageBump = v.metaU32[META_PAGE_BUMP]!;
  if (pageBump > g.maxPages) fail(`${pageBump} pages handed out, only ${g.maxPages} fit in maxBytes`);
  const pagesByClass = new Float64Array(classes.count);
  const freeByClass = new Float64Array(classes.count);
  let owned = 0;
  for (let page = 0; page < pageBump; page++) {
    const c = v.pageClass[page]!;
    if (c === NO_CLASS) continue;
    owned++;
    pagesByClass[c]++;
    const perPage = classes.chunksPerPage[c]!;
    let free = perPage - v.pageCarved[page]!;
    for (let ref = v.pageFreeHead[page]!; ref !== NIL; ref = chunks.nextFree(ref)) {
      if (slabs.pageOf(ref) !== page) fail(`page ${page}: free list reaches chunk ${ref} on another page`);
      if (chunks.isLive(ref)) fail(`page ${page}: free list holds a LIVE chunk ${ref}`);
      if (++free > perPage) fail(`page ${page}: free list longer than the page`);
    }
    if (free !== v.pageFreeCount[page]) fail(`page ${page}: ${free} free chunks, freeCount says ${v.pageFreeCount[page]}`);
    freeByClass[c] += free;
  }
  let pooled = 0;
  for (let page = v.metaU32[META_PAGE_FREE]!; page !== NIL; page = v.pageNext[page]!) {
    if (v.pageClass[page] !== NO_CLASS) fail(`pooled page ${page} still belongs to class ${v.pageClass[page]}`);
    if (++pooled > pageBump) fail('page pool list has a cycle');
  }
  if (owned + pooled !== pageBump) fail(`${owned} owned + ${pooled} pooled pages, ${pageBump} handed out`);
  let reclaimable = 0;
  for (let c = 0; c < classes.count; c++) {
    const onPartial = new Set<number>();
    for (let page = v.classPartialHead[c]!; page !== NIL; page = v.pageNext[page]!) {
      if (onPartial.has(page)) fail(`class ${c}: partial list has a cycle`);
      onPartial.add(page);
      if (v.pageClass[page] !== c) fail(`class ${c}: partial list holds page ${page} of class ${v.pageClass[page]}`);
      if (v.pageFreeCount[page] === 0) fail(`class ${c}: full page ${page} on the partial list`);
    }
    for (let page = 0; page < pageBump; page++) {
      if (v.pageClass[page] === c && v.pageFreeCount[page]! > 0 && !onPartial.has(page)) {
        fail(`class ${c}: page ${page} has free chunks but is not on the partial list`);
      }
    }
    if (v.classPages[c] !== pagesByClass[c]) fail(`class ${c}: ${pagesByClass[c]} pages, counter ${v.classPages[c]}`);
    if (v.classFreeChunks[c] !== freeByClass[c]) fail(`class ${c}: ${freeByClass[c]} free chunks, counter ${v.classFreeChunks[c]}`);
    if (v.classLiveChunks[c] !== liveByClass[c]) fail(`class ${c}: ${liveByClass[c]} live chunks, counter ${v.classLiveChunks[c]}`);
    if (v.classRequestedBytes[c] !== requestedByClass[c]) fail(`class ${c}: requested bytes disagree`);
    if (v.classFreeChunks[c]! >= classes.chunksPerPage[c]!) reclaimable++;
  }
  if (v.metaU32[META_RECLAIMABLE] !== reclaimable) fail(`reclaimable count ${v.metaU32[META_RECLAIMABLE]}, actual ${reclaimable}`);
}

/** True when `ref` sits in the probe run of `hash`, in a slot that holds that hash (bounded by the table size). */
function indexHolds(index: HashIndex, hash: number, ref: number): boolean {
  for (let slot = index.home(hash), n = 0; n < index.slots; slot = index.next(slot), n++) {
    const at = index.refAt(slot);
    if (at === 0) return false;
    if (at === ref) return index.hashAt(slot) === hash;
  }
  return false;
}
