/**
 * Replaying a trace against a cache, the way libCacheSim does it: every
 * request is a lookup; a miss admits the object (demand fill), evicting as the
 * cache decides. The caches under comparison sit behind one small interface.
 *
 *   slab-lru, slab-sieve   this engine, bounded by entries (maxKeys), by
 *                          slab bytes (maxBytes; each object stored as a
 *                          value of its size, so headers, keys and size-class
 *                          rounding count against the bound), or by key +
 *                          value bytes (maxSize, with slab room to spare)
 *   lru-cache              npm lru-cache 11 (max, or maxSize with each
 *                          object's size): LRU exactly as libCacheSim counts it;
 *                          bounded by key + value bytes, each object's size
 *                          plus its key's
 *   sieve-model            the tiny reference model of SIEVE (test/support),
 *                          bounded likewise
 *   s3fifo-model           a reference model of S3-FIFO as libCacheSim runs
 *                          it (test/support), bounded likewise; not an engine
 *                          policy: it shows what a third policy would change
 */

import { LRUCache } from 'lru-cache';

import { SlabLruCache, type CacheOptions } from '../src/index.js';
import { MAX_MAX_BYTES } from '../src/options.js';
import { S3FifoModel } from '../test/support/s3fifoModel.js';
import { SieveModel } from '../test/support/sieveModel.js';

export interface ReplayCache {
  /** True on a hit (which counts as a use). */
  lookup(key: string): boolean;
  /** Stores a missed object of `size` bytes. */
  admit(key: string, size: number): void;
  /** This engine bounded by bytes only: where its memory is now. */
  occupancy?(): SlabOccupancy;
  /** This engine bounded by key + value bytes only: the slab memory it took, and evictions for want of it. */
  slabUse?(): { readonly slabBytes: number; readonly slabEvictions: number };
}

/**
 * A cache bounded by entry count, by bytes, or by key + value bytes (`size`). Bounded by bytes, ours may be
 * given a slab page size other than the one its limits give, and slab bytes other than `bytes` (to measure
 * how much more room it needs); bounded by key + value bytes, slab bytes other than the default.
 */
export type Bound =
  | { readonly entries: number }
  | { readonly bytes: number; readonly pageBytes?: number; readonly slabBytes?: number }
  | { readonly size: number; readonly slabBytes?: number };

/** Bounded by key + value bytes, ours gets this many times as much slab memory by default: enough that maxSize alone binds. */
export const SIZE_BOUND_SLAB_FACTOR = 2;

/** Where a byte-bounded slab cache's memory is at the end of a replay (bytes). */
export interface SlabOccupancy {
  /** The trace's own object bytes, for the objects still held: what libCacheSim counts. */
  readonly objects: number;
  /** The entries' headers and keys. */
  readonly headersAndKeys: number;
  /** Chunks larger than their entries (size-class rounding). */
  readonly rounding: number;
  /** Free chunks left in size classes, which only entries of their class can use. */
  readonly freeChunks: number;
  /** Pages in no class yet, and page tails no chunk covers. */
  readonly elsewhere: number;
  /** Size classes holding at least one page. */
  readonly classesInUse: number;
  /** The cache's slab page size. */
  readonly pageBytes: number;
}
export type ReplayImpl = 'slab-lru' | 'slab-sieve' | 'lru-cache' | 'sieve-model' | 's3fifo-model';

/** The largest object in the traces is 69,632 bytes. */
const MAX_OBJECT_BYTES = 1 << 17;
const zeros = Buffer.alloc(MAX_OBJECT_BYTES);

function slabOptions(policy: 'lru' | 'sieve', bound: Bound): CacheOptions {
  if ('size' in bound) {
    const maxBytes = bound.slabBytes ?? Math.min(bound.size * SIZE_BOUND_SLAB_FACTOR, MAX_MAX_BYTES);
    return { policy, maxKeys: 4_000_000, maxSize: bound.size, maxBytes, maxKeyBytes: 64, maxValueBytes: MAX_OBJECT_BYTES };
  }
  const byBytes = 'bytes' in bound;
  return {
    policy,
    maxKeys: byBytes ? 4_000_000 : bound.entries,
    // Bounded by entries: room for every entry, so that only maxKeys binds.
    maxBytes: byBytes ? (bound.slabBytes ?? bound.bytes) : Math.max(1 << 24, bound.entries * 128),
    maxKeyBytes: 64,
    maxValueBytes: byBytes ? MAX_OBJECT_BYTES : 16,
    ...(byBytes && bound.pageBytes !== undefined ? { pageBytes: bound.pageBytes } : {}),
  };
}

/** The chunk a byte-bounded replay cache stores object `key` of `size` bytes in, and its page. */
export function replayChunkOf(key: string, size: number): { chunkBytes: number; chunksPerPage: number; pageBytes: number } {
  const cache = new SlabLruCache(slabOptions('lru', { bytes: 16 * 2 ** 20 }));
  cache.set(key, zeros.subarray(0, size));
  const chunkClass = cache.stats().classes.find((c) => c.used_chunks === 1)!;
  return { chunkBytes: chunkClass.chunk_size, chunksPerPage: chunkClass.chunks_per_page, pageBytes: cache.options.pageBytes };
}

export function makeReplayCache(impl: ReplayImpl, bound: Bound): ReplayCache {
  if ('size' in bound) return sizeBoundCache(impl, bound);
  const byBytes = 'bytes' in bound;
  if (impl === 'slab-lru' || impl === 'slab-sieve') {
    const cache = new SlabLruCache(slabOptions(impl === 'slab-lru' ? 'lru' : 'sieve', bound));
    if (!byBytes) return { lookup: (key) => cache.get(key) !== undefined, admit: (key) => void cache.set(key, '') };
    const sizes = new Map<string, number>();
    return {
      lookup: (key) => cache.get(key) !== undefined,
      admit: (key, size) => {
        cache.set(key, zeros.subarray(0, size));
        sizes.set(key, size);
      },
      occupancy: () => slabOccupancy(cache, sizes, bound.bytes),
    };
  }
  if (impl === 'lru-cache') {
    const cache = byBytes ? new LRUCache<string, true>({ maxSize: bound.bytes }) : new LRUCache<string, true>({ max: bound.entries });
    return {
      lookup: (key) => cache.get(key) !== undefined,
      admit: (key, size) => void cache.set(key, true, byBytes ? { size } : undefined),
    };
  }
  if (impl === 's3fifo-model') {
    const model = byBytes ? new S3FifoModel(bound.bytes, 'bytes') : new S3FifoModel(bound.entries);
    return { lookup: (key) => model.get(key), admit: (key, size) => model.set(key, size) };
  }
  const model = byBytes ? new SieveModel(bound.bytes, 'bytes') : new SieveModel(bound.entries);
  return { lookup: (key) => model.get(key), admit: (key, size) => model.set(key, size) };
}

/** Each bounded by `maxSize` key + value bytes, every object counting its size plus its key's UTF-8 bytes. */
function sizeBoundCache(impl: ReplayImpl, bound: { readonly size: number; readonly slabBytes?: number }): ReplayCache {
  const maxSize = bound.size;
  const entryBytes = (key: string, size: number): number => Buffer.byteLength(key) + size;
  if (impl === 'slab-lru' || impl === 'slab-sieve') {
    const cache = new SlabLruCache(slabOptions(impl === 'slab-lru' ? 'lru' : 'sieve', bound));
    return {
      lookup: (key) => cache.get(key) !== undefined,
      admit: (key, size) => void cache.set(key, zeros.subarray(0, size)),
      slabUse: () => {
        const stats = cache.stats();
        return { slabBytes: stats.slab_bytes, slabEvictions: stats.evictions_by_cause.bytes };
      },
    };
  }
  if (impl === 'lru-cache') {
    const cache = new LRUCache<string, true>({ maxSize });
    return { lookup: (key) => cache.get(key) !== undefined, admit: (key, size) => void cache.set(key, true, { size: entryBytes(key, size) }) };
  }
  const model = impl === 's3fifo-model' ? new S3FifoModel(maxSize, 'bytes') : new SieveModel(maxSize, 'bytes');
  return { lookup: (key) => model.get(key), admit: (key, size) => model.set(key, entryBytes(key, size)) };
}

function slabOccupancy(cache: SlabLruCache, sizes: ReadonlyMap<string, number>, maxBytes: number): SlabOccupancy {
  let objects = 0;
  for (const [key, size] of sizes) if (cache.has(key)) objects += size;
  const stats = cache.stats();
  let freeChunks = 0;
  let inClasses = 0;
  for (const c of stats.classes) {
    freeChunks += c.free_chunks * c.chunk_size;
    inClasses += (c.used_chunks + c.free_chunks) * c.chunk_size;
  }
  return {
    objects,
    headersAndKeys: stats.bytes - objects,
    rounding: stats.wasted_bytes,
    freeChunks,
    elsewhere: maxBytes - inClasses,
    classesInUse: stats.classes.filter((c) => c.total_pages > 0).length,
    pageBytes: cache.options.pageBytes,
  };
}

/** Misses over the whole trace. */
export function replay(keys: readonly string[], sizes: Uint32Array | undefined, cache: ReplayCache): number {
  let misses = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!cache.lookup(key)) {
      misses++;
      cache.admit(key, sizes === undefined ? 1 : sizes[i]!);
    }
  }
  return misses;
}

/** Published anchors (see ../shared/traces/README.md and the issue). */
export const ANCHORS = {
  /** libCacheSim test/test_evictionAlgo.c, miss counts at 128 MiB … 1 GiB (step 128 MiB), object bytes. */
  cloudphysicsBytes: {
    sizesMiB: [128, 256, 384, 512, 640, 768, 896, 1024],
    requests: 113_872,
    lru: [93374, 89783, 83572, 81722, 72494, 72104, 71972, 71704],
    sieve: [91699, 86720, 78578, 76707, 69945, 66221, 64445, 64376],
    /** S3FIFO.c, libCacheSim's default S3-FIFO (a full small queue sends new keys to main until the first eviction). */
    s3fifo: [90117, 80915, 75060, 72191, 69815, 65542, 60799, 56045],
    /** S3FIFOv0.c, the paper's original (new keys always go to the small queue). */
    s3fifoV0: [89307, 82387, 77041, 76791, 71300, 70343, 70455, 70355],
  },
  /** Megiddo & Modha (FAST '03), the ARC paper: LRU at 1,000 entries. */
  oltpLru1000Hits: 300_122,
  /** caffeine issue #106: LRU at 100,000 entries hits 75.91 %. */
  scarabLru100kHitPercent: 75.91,
} as const;
