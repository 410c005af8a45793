/**
 * The caches under comparison, behind one small interface.
 *
 * - `slab`: this engine, exact LRU (the default policy).
 * - `slab-sieve`: this engine with `policy: 'sieve'`.
 * - `lru-cache`: npm lru-cache 11 configured as the seed did: max 5M (here:
 *   the round's key count), maxSize 1.5 GB, sizeCalculation = byte length of
 *   key + value. It has no bytes API, so its `getBytes` is its `get`: the
 *   benchmark compares our bytes path with its string path, which is what a
 *   server on lru-cache uses. It has no batch calls either: its `getMany`
 *   is a get per key and its `setMany` a set per entry, which is what a
 *   batch costs with it.
 * - `minimal-lru`: the calibration prototype (calibration/minimal-lru.ts), an
 *   off-heap exact LRU with no features, for bench/calibrate.ts only.
 */

import { LRUCache } from 'lru-cache';
import { SlabLruCache } from '../src/index.js';
import { MinimalLru } from './calibration/minimal-lru.js';

export interface BenchCache {
  set(key: string, value: string): void;
  get(key: string): unknown;
  getBytes(key: string): unknown;
  getMany(keys: string[]): unknown[];
  setMany(entries: [string, string][]): void;
  readonly size: number;
  /** Where the memory goes, by component, for the report. */
  memoryDetail(): Record<string, number>;
}

export type BenchImpl = 'slab' | 'slab-sieve' | 'lru-cache' | 'minimal-lru';

export function makeBenchCache(impl: BenchImpl, o: { maxKeys: number; maxBytes: number }): BenchCache {
  if (impl === 'slab' || impl === 'slab-sieve') {
    const cache = new SlabLruCache({ maxKeys: o.maxKeys, maxBytes: o.maxBytes, policy: impl === 'slab' ? 'lru' : 'sieve' });
    return {
      set: (k, v) => void cache.set(k, v),
      get: (k) => cache.get(k),
      getBytes: (k) => cache.getBytes(k),
      getMany: (ks) => cache.getMany(ks),
      setMany: (es) => void cache.setMany(es),
      get size() {
        return cache.size;
      },
      memoryDetail() {
        const s = cache.stats();
        const usedChunkBytes = s.classes.reduce((sum, c) => sum + c.used_chunks * c.chunk_size, 0);
        return {
          items: s.curr_items,
          /** Header + key + value of every entry. */
          entryBytes: s.bytes,
          usedChunkBytes,
          slabPageBytes: s.touched_pages * s.page_size,
          indexBytes: s.index_bytes,
          indexSlots: s.index_slots,
          wastedBytes: s.wasted_bytes,
        };
      },
    };
  }
  if (impl === 'minimal-lru') {
    const cache = new MinimalLru(o.maxKeys);
    return {
      set: (k, v) => cache.set(k, v),
      get: (k) => cache.get(k),
      getBytes: (k) => cache.getBytes(k),
      getMany: (ks) => ks.map((k) => cache.get(k)),
      setMany: (es) => {
        for (const [k, v] of es) cache.set(k, v);
      },
      get size() {
        return cache.size;
      },
      memoryDetail: () => ({ items: cache.size }),
    };
  }
  const cache = new LRUCache<string, string>({
    max: o.maxKeys,
    maxSize: o.maxBytes,
    sizeCalculation: (value, key) => Buffer.byteLength(key) + Buffer.byteLength(value),
  });
  return {
    set: (k, v) => void cache.set(k, v),
    get: (k) => cache.get(k),
    getBytes: (k) => cache.get(k),
    getMany: (ks) => ks.map((k) => cache.get(k)),
    setMany: (es) => {
      for (const [k, v] of es) cache.set(k, v);
    },
    get size() {
      return cache.size;
    },
    memoryDetail: () => ({ items: cache.size, calculatedSize: cache.calculatedSize }),
  };
}
