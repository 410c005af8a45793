/**
 * The shared memory of one cache, and the typed-array views over it.
 *
 * Every piece of cache state lives in one of five SharedArrayBuffers, so that a
 * thread given the buffers (a `CacheHandle`) sees the very same cache. Nothing
 * per entry lives on the JS heap. Buffers are allocated zero-filled and only
 * the pages that are written become resident: RSS grows with data, not with
 * `maxKeys` or `maxBytes`.
 *
 *   meta      control words (u32, word index META_*) then counters (f64,
 *             index STAT_*), 1 KiB in all.
 *   entries   a 16-byte record per entry id (maxKeys of them, plus the walk
 *             sentinel's), then an f64
 *             expiry per entry id (see ENTRY RECORD below). One record is
 *             one cache-line access for everything a lookup and an LRU bump
 *             need about the entry itself.
 *   index     u32 × indexCapacity (a power of two), the open-addressing table:
 *               0 = empty slot, else (tag << idBits) | (id + 1)   (see hashIndex.ts)
 *   slabMeta  per page, maxPages long:  class u8 (NO_CLASS = 0xff), freeHead u32,
 *             freeCount u32, carved u32, partialNext u32, partialPrev u32;
 *             per size class, MAX_CLASSES long: partialHead u32, pages u32,
 *             freeChunks u32, liveChunks u32, requestedBytes f64, evictions f64.
 *   arena     maxPages × pageBytes of slab pages holding the chunks (chunk.ts).
 *
 * All references (entry ids, page numbers, chunk refs) are u32 with NIL =
 * 0xffffffff for "none".
 */

import { type ResolvedOptions } from './options.js';
import { MAX_CLASSES } from './sizeClasses.js';

export const NIL = 0xffffffff;
export const NO_CLASS = 0xff;
export const LAYOUT_VERSION = 1;
const MAGIC = 0x534c4142; // "SLAB"

/* ---- ENTRY RECORD: u32 words at entry[id * ENTRY_WORDS + E_*] ----
 *   0  u32  prev   LRU link toward the head (more recent); NIL at the head
 *   4  u32  next   LRU link toward the tail (less recent); NIL at the tail.
 *                  For an unused id: the next id of the free stack.
 *   8  u32  ref    where the entry's chunk starts: arena byte offset / 8;
 *                  NIL for an unused id
 *  12  u32  hash   the key's full hash (the index needs its home slot)
 * and, in its own array, expiry[id]: f64 absolute expiry in ms since the Unix
 * epoch, 0 = never; touched only once some entry has a TTL. */
export const ENTRY_WORDS = 4;
export const E_PREV = 0;
export const E_NEXT = 1;
export const E_REF = 2;
export const E_HASH = 3;

/* ---- meta: control words (u32 index) ---- */
/** Lock word for cross-thread use (Atomics on the i32 view); 0 = free. */
export const META_LOCK = 0;
export const META_MAGIC = 1;
export const META_VERSION = 2;
/** Most recently used entry id, or NIL. */
export const META_LRU_HEAD = 3;
/** Least recently used entry id, or NIL. */
export const META_LRU_TAIL = 4;
/** Live entries. */
export const META_ITEMS = 5;
/** Entry ids below this have been used at least once; ids from here up are untouched. */
export const META_ENTRY_BUMP = 6;
/** Top of the stack of freed entry ids (linked through E_NEXT), or NIL. */
export const META_ENTRY_FREE = 7;
/** Pages below this have been handed out at least once. */
export const META_PAGE_BUMP = 8;
/** Head of the list of released pages (linked through partialNext), or NIL. */
export const META_PAGE_FREE = 9;
/** 1 once any entry was given a TTL: until then `expiry` is never read. */
export const META_TTL_IN_USE = 10;
/** Next entry id the incremental TTL sweep looks at. */
export const META_SWEEP_CURSOR = 11;
/** Seed of the key hash, drawn at creation. */
export const META_HASH_SEED = 12;
/** Number of size classes that hold at least one page's worth of free chunks. */
export const META_RECLAIMABLE = 13;
/** threadId + 1 of the lock's last holder (diagnostics for lock timeouts). */
export const META_LOCK_OWNER = 14;
/** 1 while a snapshot walk has the sentinel linked into the LRU list. */
export const META_WALK_ACTIVE = 15;
export const META_WORDS = 32;

/* ---- meta: counters (f64 index), memcached's names in stats.ts ---- */
export const STAT_GET_HITS = 0;
export const STAT_GET_MISSES = 1;
export const STAT_GET_EXPIRED = 2;
export const STAT_CMD_SET = 3;
export const STAT_TOTAL_ITEMS = 4;
/** Header + key + value bytes of live entries. */
export const STAT_BYTES = 5;
export const STAT_EVICTIONS_KEYS = 6;
export const STAT_EVICTIONS_BYTES = 7;
export const STAT_EVICTED_UNFETCHED = 8;
export const STAT_EXPIRED_UNFETCHED = 9;
/** Expired entries removed (on access or by the sweep). */
export const STAT_RECLAIMED = 10;
export const STAT_SLABS_MOVED = 11;
export const STAT_DELETE_HITS = 12;
export const STAT_DELETE_MISSES = 13;
export const STAT_SET_REFUSED = 14;
export const STAT_CMD_PEEK = 15;
export const STAT_CMD_HAS = 16;
/** Chunks copied to other pages when a page was released to another class. */
export const STAT_CHUNKS_RELOCATED = 17;
export const STAT_CLEARS = 18;
export const STAT_COUNT = 24;
const META_BYTES = META_WORDS * 4 + STAT_COUNT * 8;

/**
 * Node's Buffer methods behind `toString`/`write`, without their argument
 * normalisation: the hot paths pass checked offsets, so they call these directly.
 */
export interface ArenaBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(value: string, offset: number, length: number): number;
  latin1Write(value: string, offset: number, length: number): number;
}

/** Everything needed to rebuild a view of a cache in another thread. Structured-clonable. */
export interface CacheHandle {
  readonly layoutVersion: number;
  readonly options: ResolvedOptions;
  readonly meta: SharedArrayBuffer;
  readonly entries: SharedArrayBuffer;
  readonly index: SharedArrayBuffer;
  readonly slabMeta: SharedArrayBuffer;
  readonly arena: SharedArrayBuffer;
}

/** Sizes derived from the options. */
export interface Geometry {
  readonly maxKeys: number;
  readonly maxPages: number;
  readonly pageBytes: number;
  readonly indexCapacity: number;
  /** Bits of an index slot that hold id + 1. */
  readonly idBits: number;
  /**
   * The id of the walk sentinel, one record past the last entry id: a node the
   * snapshot walker keeps in the LRU list as its cursor (see lru.ts).
   */
  readonly sentinel: number;
}

/** The index stays at most 70% full when the cache holds maxKeys entries. */
const INDEX_MAX_LOAD = 0.7;

export function geometryOf(options: ResolvedOptions): Geometry {
  const indexCapacity = 2 ** Math.ceil(Math.log2(Math.ceil(options.maxKeys / INDEX_MAX_LOAD) + 1));
  return {
    maxKeys: options.maxKeys,
    maxPages: Math.floor(options.maxBytes / options.pageBytes),
    pageBytes: options.pageBytes,
    indexCapacity,
    idBits: Math.ceil(Math.log2(options.maxKeys + 1)),
    sentinel: options.maxKeys,
  };
}

/** Typed-array views over a handle's buffers; built once per cache instance (per thread). */
export interface Views {
  readonly metaU32: Uint32Array;
  readonly metaI32: Int32Array;
  readonly stats: Float64Array;
  /** Entry records, ENTRY_WORDS u32 per entry id (ENTRY RECORD above). */
  readonly entry: Uint32Array;
  readonly expiry: Float64Array;
  readonly index: Uint32Array;
  readonly pageClass: Uint8Array;
  readonly pageFreeHead: Uint32Array;
  readonly pageFreeCount: Uint32Array;
  readonly pageCarved: Uint32Array;
  readonly pageNext: Uint32Array;
  readonly pagePrev: Uint32Array;
  readonly classPartialHead: Uint32Array;
  readonly classPages: Uint32Array;
  readonly classFreeChunks: Uint32Array;
  readonly classLiveChunks: Uint32Array;
  readonly classRequestedBytes: Float64Array;
  readonly classEvictions: Float64Array;
  /** The arena as bytes (a Buffer, for its native UTF-8 encode/decode and copy). */
  readonly arenaBytes: ArenaBuffer;
  readonly arenaU32: Uint32Array;
  readonly arenaU16: Uint16Array;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function slabMetaBytes(maxPages: number): number {
  return align8(align8(maxPages) + 5 * 4 * maxPages + 4 * 4 * MAX_CLASSES) + 2 * 8 * MAX_CLASSES;
}

/** Allocates the buffers of a new, empty cache. */
export function allocateHandle(options: ResolvedOptions, hashSeed: number): CacheHandle {
  const g = geometryOf(options);
  const handle: CacheHandle = {
    layoutVersion: LAYOUT_VERSION,
    options,
    meta: new SharedArrayBuffer(META_BYTES),
    entries: new SharedArrayBuffer((g.maxKeys + 1) * (ENTRY_WORDS * 4 + 8)),
    index: new SharedArrayBuffer(g.indexCapacity * 4),
    slabMeta: new SharedArrayBuffer(slabMetaBytes(g.maxPages)),
    arena: new SharedArrayBuffer(g.maxPages * g.pageBytes),
  };
  const views = createViews(handle);
  resetState(views, g);
  views.metaU32[META_MAGIC] = MAGIC;
  views.metaU32[META_VERSION] = LAYOUT_VERSION;
  views.metaU32[META_HASH_SEED] = hashSeed;
  return handle;
}

/** Puts the control words and slab metadata back to "empty cache"; counters are kept. */
export function resetState(v: Views, g: Geometry): void {
  v.metaU32[META_LRU_HEAD] = NIL;
  v.metaU32[META_LRU_TAIL] = NIL;
  v.metaU32[META_ITEMS] = 0;
  v.metaU32[META_ENTRY_BUMP] = 0;
  v.metaU32[META_ENTRY_FREE] = NIL;
  v.metaU32[META_PAGE_BUMP] = 0;
  v.metaU32[META_PAGE_FREE] = NIL;
  v.metaU32[META_SWEEP_CURSOR] = 0;
  v.metaU32[META_RECLAIMABLE] = 0;
  v.metaU32[META_WALK_ACTIVE] = 0;
  v.pageClass.fill(NO_CLASS, 0, g.maxPages);
  v.classPartialHead.fill(NIL);
  v.classPages.fill(0);
  v.classFreeChunks.fill(0);
  v.classLiveChunks.fill(0);
  v.classRequestedBytes.fill(0);
}

export function createViews(handle: CacheHandle): Views {
  if (handle.layoutVersion !== LAYOUT_VERSION) {
    throw new TypeError(`cache handle has layout version ${handle.layoutVersion}, expected ${LAYOUT_VERSION}`);
  }
  const g = geometryOf(handle.options);
  const n = g.maxKeys + 1;
  const p = g.maxPages;
  const e = handle.entries;
  const s = handle.slabMeta;
  let at = align8(p);
  const u32 = (count: number): Uint32Array => {
    const view = new Uint32Array(s, at, count);
    at += count * 4;
    return view;
  };
  const pageClass = new Uint8Array(s, 0, p);
  const pageFreeHead = u32(p);
  const pageFreeCount = u32(p);
  const pageCarved = u32(p);
  const pageNext = u32(p);
  const pagePrev = u32(p);
  const classPartialHead = u32(MAX_CLASSES);
  const classPages = u32(MAX_CLASSES);
  const classFreeChunks = u32(MAX_CLASSES);
  const classLiveChunks = u32(MAX_CLASSES);
  at = align8(at);
  const classRequestedBytes = new Float64Array(s, at, MAX_CLASSES);
  const classEvictions = new Float64Array(s, at + 8 * MAX_CLASSES, MAX_CLASSES);
  return {
    metaU32: new Uint32Array(handle.meta, 0, META_WORDS),
    metaI32: new Int32Array(handle.meta, 0, META_WORDS),
    stats: new Float64Array(handle.meta, META_WORDS * 4, STAT_COUNT),
    entry: new Uint32Array(e, 0, n * ENTRY_WORDS),
    expiry: new Float64Array(e, n * ENTRY_WORDS * 4, n),
    index: new Uint32Array(handle.index),
    pageClass,
    pageFreeHead,
    pageFreeCount,
    pageCarved,
    pageNext,
    pagePrev,
    classPartialHead,
    classPages,
    classFreeChunks,
    classLiveChunks,
    classRequestedBytes,
    classEvictions,
    arenaBytes: Buffer.from(handle.arena) as ArenaBuffer,
    arenaU32: new Uint32Array(handle.arena),
    arenaU16: new Uint16Array(handle.arena),
  };
}

export function checkMagic(v: Views): void {
  if (v.metaU32[META_MAGIC] !== MAGIC || v.metaU32[META_VERSION] !== LAYOUT_VERSION) {
    throw new TypeError('cache handle does not hold an initialised cache of this layout version');
  }
}
