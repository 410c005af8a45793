/**
 * The shared memory of one cache, and the typed-array views over it.
 *
 * Every piece of cache state lives in one of six SharedArrayBuffers, so that
 * a thread given the buffers (a `CacheHandle`) sees the very same cache.
 * Nothing per entry lives on the JS heap. Buffers are allocated zero-filled and
 * only the pages that are written become resident: RSS grows with data, not
 * with `maxKeys` or `maxBytes`.
 *
 *   meta      control words (u32, META_*), global f64 state (G_*), then one
 *             row of event counters (f64, STAT_*) per attached thread, so
 *             threads counting hits in parallel never share a cache line.
 *   index     the open-addressing table: 2 u32 words per slot,
 *             [hash, ref] — ref 0 = empty slot (see hashIndex.ts).
 *   slabMeta  per page, maxPages long:  class u8 (NO_CLASS = 0xff), freeHead u32,
 *             freeCount u32, carved u32, partialNext u32, partialPrev u32;
 *             per size class, MAX_CLASSES long: partialHead u32, pages u32,
 *             freeChunks u32, liveChunks u32, requestedBytes f64, evictions f64.
 *   walkLog   notes of changes behind a running snapshot walk (walkLog.ts).
 *   stripes   the sequence numbers readers of a shared SIEVE cache check
 *             instead of taking the lock, and the slots where they announce
 *             the bits they write (seqlock.ts).
 *   arena     ARENA_RESERVED_BYTES (the walk sentinel's node), then
 *             maxPages × pageBytes of slab pages holding the entries. An entry
 *             is one chunk: its recency links, header, key and value together
 *             (chunk.ts), so a lookup touches one index slot and one chunk.
 *
 * All references are u32: a chunk ref is the chunk's arena byte offset / 4 (an
 * arena of up to 16 GiB fits), page numbers are plain indexes, and NIL =
 * 0xffffffff means "none".
 */

import { type ResolvedOptions } from './options.js';
import { MAX_CLASSES } from './sizeClasses.js';
import { StripedSeqlock, stripeCount } from './seqlock.js';
import { WALK_LOG_BYTES } from './walkLog.js';

export const NIL = 0xffffffff;
export const NO_CLASS = 0xff;
export const LAYOUT_VERSION = 4;
const MAGIC = 0x534c4142; // "SLAB"

/**
 * The first bytes of the arena hold no page: chunk ref 0 is the snapshot
 * walk's sentinel node (its prev/next words, see recencyList.ts), and an index
 * slot whose ref word is 0 is therefore free to mean "empty".
 */
export const ARENA_RESERVED_BYTES = 64;
export const SENTINEL_REF = 0;
/** The chunk ref of the first byte of page 0. */
export const FIRST_PAGE_REF = ARENA_RESERVED_BYTES / 4;

/* ---- meta: control words (u32 index) ---- */
/** Lock word for cross-thread use (Atomics on the i32 view); 0 = free. */
export const META_LOCK = 0;
export const META_MAGIC = 1;
export const META_VERSION = 2;
/** Most recent entry (chunk ref) of the recency list, or NIL. */
export const META_LIST_HEAD = 3;
/** Least recent entry of the recency list, or NIL. */
export const META_LIST_TAIL = 4;
/** Live entries. */
export const META_ITEMS = 5;
/** Live entries that carry an expiry: while 0, nothing ever looks at expiry times. */
export const META_EXPIRING_ITEMS = 6;
/** The TTL sweep's position: page, then chunk within the page. */
export const META_SWEEP_PAGE = 7;
export const META_SWEEP_CHUNK = 8;
/** Pages below this have been handed out at least once. */
export const META_PAGE_BUMP = 9;
/** Head of the list of released pages (linked through partialNext), or NIL. */
export const META_PAGE_FREE = 10;
/** Seed of the key hash, drawn at creation. */
export const META_HASH_SEED = 11;
/** Number of size classes that hold at least one page's worth of free chunks. */
export const META_RECLAIMABLE = 12;
/** threadId + 1 of the lock's last holder (diagnostics for lock timeouts). */
export const META_LOCK_OWNER = 13;
/** 1 while a snapshot walk has the sentinel linked into the recency list. */
export const META_WALK_ACTIVE = 14;
/** SIEVE's hand: the chunk ref it examines next, or NIL (start from the tail). */
export const META_HAND = 15;
/** Counter rows handed out so far (one per cache instance, i.e. per thread). */
export const META_STAT_ROWS_USED = 16;
/** Entries removed so far, any cause (wraps): lets an iterator notice removals behind its back. */
export const META_REMOVALS = 17;
export const META_WORDS = 32;

/* ---- meta: global f64 state (index into the f64 view, after the control words) ---- */
/** Header + key + value bytes of live entries. */
export const G_BYTES = 0;
/** The last version handed out (caches created with `versions`). */
export const G_VERSION = 1;
/** Key + value bytes of live entries: what the maxSize option bounds. */
export const G_SIZE = 2;
export const GLOBAL_F64 = 4;

/* ---- meta: event counters, one row per cache instance, summed by stats.ts ---- */
export const STAT_GET_HITS = 0;
export const STAT_GET_MISSES = 1;
export const STAT_GET_EXPIRED = 2;
export const STAT_CMD_SET = 3;
export const STAT_TOTAL_ITEMS = 4;
export const STAT_EVICTIONS_KEYS = 5;
export const STAT_EVICTIONS_BYTES = 6;
export const STAT_EVICTED_UNFETCHED = 7;
export const STAT_EXPIRED_UNFETCHED = 8;
/** Expired entries removed (on access or by the sweep). */
export const STAT_RECLAIMED = 9;
export const STAT_SLABS_MOVED = 10;
export const STAT_DELETE_HITS = 11;
export const STAT_DELETE_MISSES = 12;
export const STAT_SET_REFUSED = 13;
export const STAT_CMD_PEEK = 14;
export const STAT_CMD_HAS = 15;
/** Chunks copied to other pages when a page was released to another class. */
export const STAT_CHUNKS_RELOCATED = 16;
export const STAT_CLEARS = 17;
/** Entries the SIEVE hand passed over (visited bit cleared) while looking for a victim. */
export const STAT_SIEVE_PASSED = 18;
/** setIf/deleteIf that found the expected version / another version / no entry (memcached's cas_*). */
export const STAT_CAS_HITS = 19;
export const STAT_CAS_BADVAL = 20;
export const STAT_CAS_MISSES = 21;
/** Reads of a shared SIEVE cache done without the lock / tries thrown away because a writer changed the stripe / reads that then took the lock. */
export const STAT_LOCK_FREE_READS = 22;
export const STAT_LOCK_FREE_RETRIES = 23;
export const STAT_LOCK_FREE_FALLBACKS = 24;
/** Evictions because a set would have taken the entries' key + value bytes past maxSize. */
export const STAT_EVICTIONS_SIZE = 25;
/** f64 counters per row, a whole number of 64-byte cache lines. */
export const STAT_COUNT = 32;
/**
 * Counter rows: each cache instance (the creator and every `attach`) takes its
 * own, so threads never write the same cache line to count. Past this many
 * instances rows are shared, and counts from two threads racing on one row can
 * be lost (the cache itself stays correct).
 */
export const MAX_STAT_ROWS = 64;

const META_BYTES = META_WORDS * 4 + GLOBAL_F64 * 8 + MAX_STAT_ROWS * STAT_COUNT * 8;

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
  readonly index: SharedArrayBuffer;
  readonly slabMeta: SharedArrayBuffer;
  readonly walkLog: SharedArrayBuffer;
  readonly stripes: SharedArrayBuffer;
  readonly arena: SharedArrayBuffer;
}

/** Sizes derived from the options. */
export interface Geometry {
  readonly maxKeys: number;
  /** Most key + value bytes (0 = no bound). */
  readonly maxSize: number;
  readonly maxPages: number;
  readonly pageBytes: number;
  /** Index slots: at least maxKeys / INDEX_MAX_LOAD (not a power of two: see hashIndex.ts). */
  readonly indexSlots: number;
}

/**
 * The index stays at most 70 % full when the cache holds maxKeys entries.
 * An insert (every set of a new key) and a backward-shift delete (every
 * eviction) walk to the end of a probe run, and runs grow as 1 / (1 − load)².
 * Measured at 5M keys (PROFILE.md, "Index load"): 0.7 instead of 0.8 made
 * eviction about a fifth faster for 1.4 B more per key; 0.6 gained nothing more.
 */
const INDEX_MAX_LOAD = 0.7;
/** A floor for tiny caches, so that probe runs stay short whatever maxKeys is. */
const MIN_INDEX_SLOTS = 256;

export function geometryOf(options: ResolvedOptions): Geometry {
  return {
    maxKeys: options.maxKeys,
    maxSize: options.maxSize,
    maxPages: Math.floor(options.maxBytes / options.pageBytes),
    pageBytes: options.pageBytes,
    indexSlots: Math.max(MIN_INDEX_SLOTS, Math.ceil(options.maxKeys / INDEX_MAX_LOAD) + 1),
  };
}

/** Typed-array views over a handle's buffers; built once per cache instance (per thread). */
export interface Views {
  readonly metaU32: Uint32Array;
  readonly metaI32: Int32Array;
  readonly global: Float64Array;
  /** Every counter row (MAX_STAT_ROWS × STAT_COUNT). */
  readonly statRows: Float64Array;
  /** The index table, 2 words per slot: [hash, ref]. */
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
    index: new SharedArrayBuffer(g.indexSlots * 8),
    slabMeta: new SharedArrayBuffer(slabMetaBytes(g.maxPages)),
    walkLog: new SharedArrayBuffer(WALK_LOG_BYTES),
    stripes: new SharedArrayBuffer(StripedSeqlock.bytesFor(stripeCount(g.indexSlots))),
    arena: new SharedArrayBuffer(ARENA_RESERVED_BYTES + g.maxPages * g.pageBytes),
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
  v.metaU32[META_LIST_HEAD] = NIL;
  v.metaU32[META_LIST_TAIL] = NIL;
  v.metaU32[META_ITEMS] = 0;
  v.metaU32[META_EXPIRING_ITEMS] = 0;
  v.metaU32[META_SWEEP_PAGE] = 0;
  v.metaU32[META_SWEEP_CHUNK] = 0;
  v.metaU32[META_PAGE_BUMP] = 0;
  v.metaU32[META_PAGE_FREE] = NIL;
  v.metaU32[META_RECLAIMABLE] = 0;
  v.metaU32[META_WALK_ACTIVE] = 0;
  v.metaU32[META_HAND] = NIL;
  v.global[G_BYTES] = 0;
  v.global[G_SIZE] = 0;
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
  const p = g.maxPages;
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
  const globalAt = META_WORDS * 4;
  return {
    metaU32: new Uint32Array(handle.meta, 0, META_WORDS),
    metaI32: new Int32Array(handle.meta, 0, META_WORDS),
    global: new Float64Array(handle.meta, globalAt, GLOBAL_F64),
    statRows: new Float64Array(handle.meta, globalAt + GLOBAL_F64 * 8, MAX_STAT_ROWS * STAT_COUNT),
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

/** This instance's counter row: a view of its own STAT_COUNT counters. */
export function claimStatRow(v: Views): Float64Array {
  const row = Atomics.add(v.metaU32, META_STAT_ROWS_USED, 1) % MAX_STAT_ROWS;
  return v.statRows.subarray(row * STAT_COUNT, (row + 1) * STAT_COUNT);
}

export function checkMagic(v: Views): void {
  if (v.metaU32[META_MAGIC] !== MAGIC || v.metaU32[META_VERSION] !== LAYOUT_VERSION) {
    throw new TypeError('cache handle does not hold an initialised cache of this layout version');
  }
}
