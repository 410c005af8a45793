/**
 * The maxSize option bounds the entries' key + value bytes, as lru-cache's
 * maxSize with a sizeCalculation of key plus value bytes. With LRU the
 * evictions it causes are exactly lru-cache's (seeded differential runs);
 * with SIEVE exactly the reference model's bounded by bytes. It holds for an
 * update that grows an entry, across instances sharing one cache, beside a
 * slab bound that binds first, and when a snapshot is loaded into a cache
 * with a smaller maxSize.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LRUCache } from 'lru-cache';
import { SlabLruCache, checkInvariants, loadSnapshot, saveSnapshot } from '@slabcache/engine';

import { makeRng, randInt } from './support/rng';
import { runSieveDifferential } from './support/sieveDifferential';
import { SieveModel } from './support/sieveModel';

const LIMITS = { maxKeyBytes: 64, maxValueBytes: 6000, maxBytes: 4 << 20, pageBytes: 65536 };
const MAX_SIZE = 20_000;
const payload = (key: string, value: string): number => Buffer.byteLength(key) + Buffer.byteLength(value);

/** A value of about `length` characters, some of them two or three bytes in UTF-8. */
function valueOf(rng: () => number, step: number, length: number): string {
  const filler = ['x', 'é', '€'][randInt(rng, 3)]!;
  return `v${step}-`.padEnd(length, filler);
}

describe('maxSize', () => {
  it('is checked: an integer, at least maxKeyBytes + maxValueBytes, at most maxBytes; 0 means no bound', () => {
    expect(() => new SlabLruCache({ ...LIMITS, maxSize: 1.5 as number })).toThrow(/maxSize option must be an integer/);
    expect(() => new SlabLruCache({ ...LIMITS, maxSize: -1 })).toThrow(TypeError);
    expect(() => new SlabLruCache({ ...LIMITS, maxSize: 6063 })).toThrow(/at least maxKeyBytes \+ maxValueBytes \(6064\)/);
    expect(() => new SlabLruCache({ ...LIMITS, maxSize: (4 << 20) + 1 })).toThrow(/above maxBytes .* could never bind/);
    expect(new SlabLruCache({ ...LIMITS, maxSize: 6064 }).maxSize).toBe(6064);
    const unbounded = new SlabLruCache(LIMITS);
    expect(unbounded.maxSize).toBe(0);
    unbounded.set('k', 'x'.repeat(6000)).set('k2', 'y'.repeat(6000));
    expect(unbounded.calculatedSize).toBe(1 + 6000 + 2 + 6000);
    expect(unbounded.stats()).toMatchObject({ payload_bytes: 12_003, limit_maxsize: 0 });
  });

  it.each([
    [1, 0],
    [2, 0],
    [3, 0],
    [4, 30],
  ])('LRU, seed %i (maxKeys %i, 0 = not binding): the same results, sizes and order as lru-cache over 4,000 operations', (seed, maxKeys) => {
    const rng = makeRng(seed);
    const ours = new SlabLruCache({ ...LIMITS, maxKeys: maxKeys || 10_000, maxSize: MAX_SIZE });
    const theirs = new LRUCache<string, string>({ max: maxKeys || 10_000, maxSize: MAX_SIZE, sizeCalculation: (value, key) => payload(key, value) });
    for (let step = 0; step < 4000; step++) {
      const key = rng() < 0.1 ? `clé-${randInt(rng, 20)}` : `key-${randInt(rng, 150)}`;
      const r = rng();
      const where = `seed ${seed}, step ${step}, ${key}`;
      if (r < 0.45) {
        // Mostly small values, some large enough that one set evicts several entries.
        const value = valueOf(rng, step, rng() < 0.85 ? randInt(rng, 400) : randInt(rng, 2000));
        ours.set(key, value);
        theirs.set(key, value);
      } else if (r < 0.8) {
        expect([where, ours.get(key)]).toEqual([where, theirs.get(key)]);
      } else if (r < 0.9) {
        expect([where, ours.has(key)]).toEqual([where, theirs.has(key)]);
      } else {
        expect([where, ours.delete(key)]).toEqual([where, theirs.delete(key)]);
      }
      expect([where, ours.size, ours.calculatedSize]).toEqual([where, theirs.size, theirs.calculatedSize]);
      if (step % 7 === 0) expect([where, [...ours.keys()]]).toEqual([where, [...theirs.keys()]]);
      checkInvariants(ours);
    }
    const causes = ours.stats().evictions_by_cause;
    expect(causes.size).toBeGreaterThan(0);
    expect(causes.bytes).toBe(0);
    if (maxKeys !== 0) expect(causes.keys).toBeGreaterThan(0);
  });

  it.each([1, 2, 3])('SIEVE, seed %i: the same hits and evictions as the reference model bounded by bytes', (seed) => {
    const rng = makeRng(seed);
    const evicted: string[] = [];
    const cache = new SlabLruCache({
      ...LIMITS,
      maxKeys: 10_000,
      maxSize: MAX_SIZE,
      policy: 'sieve',
      dispose: (_value, key, reason) => reason === 'evict' && evicted.push(String(key)),
    });
    const model = new SieveModel(MAX_SIZE, 'bytes');
    const hits = runSieveDifferential({
      seed,
      rng,
      steps: 20_000,
      keySpace: 300,
      cache,
      evicted,
      model,
      // Any length at each set: an update may move the entry to a chunk of another size class.
      valueOf: () => 'x'.repeat(rng() < 0.9 ? randInt(rng, 300) : randInt(rng, 2000)),
      costOf: payload,
    });
    expect(evicted.length).toBeGreaterThan(1000);
    expect(hits).toBeGreaterThan(1000);
    expect(cache.stats().evictions_by_cause).toMatchObject({ bytes: 0, keys: 0 });
  });

  it.each(['lru', 'sieve'] as const)('%s: an update that grows an entry evicts other entries, never the one being set', (policy) => {
    const cache = new SlabLruCache({ ...LIMITS, maxSize: 6064 * 2, policy });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, 'x'.repeat(1000));
    const oldest = 'k0';
    cache.set(oldest, 'y'.repeat(6000));
    expect(cache.get(oldest)).toBe('y'.repeat(6000));
    expect(cache.calculatedSize).toBeLessThanOrEqual(6064 * 2);
    expect(cache.stats().evictions_by_cause.size).toBeGreaterThan(0);
    checkInvariants(cache);
    // The largest entry the limits allow, alone, still fits.
    cache.set('big', 'z'.repeat(6000));
    cache.set('k-long-key'.padEnd(64, '-'), 'w'.repeat(6000));
    expect(cache.calculatedSize).toBeLessThanOrEqual(6064 * 2);
    checkInvariants(cache);
  });

  it('SIEVE: an update that passes maxSize evicts others, and the entry keeps its place, in its chunk or in one of another size class', () => {
    const evicted: string[] = [];
    const cache = new SlabLruCache({
      ...LIMITS,
      maxSize: 10 * 1000 + 6064,
      policy: 'sieve',
      dispose: (_value, key, reason) => reason === 'evict' && evicted.push(String(key)),
    });
    // Ten entries of exactly 1,000 key + value bytes, then one that fills the bound to the byte.
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, 'x'.repeat(998));
    const fill = 'fill'.padEnd(64, '-');
    cache.set(fill, 'f'.repeat(6000));
    expect(cache.calculatedSize).toBe(cache.maxSize);
    const order = [...cache.keys()];
    // One byte more for k5: same chunk, so the update is in place; the hand evicts the oldest (k0).
    cache.set('k5', 'y'.repeat(999));
    expect(evicted).toEqual(['k0']);
    expect([...cache.keys()]).toEqual(order.filter((key) => key !== 'k0'));
    // Five times the size for k6: a chunk of another size class, but the entry keeps its place too.
    // 4,000 bytes more: the hand goes on from k1 and evicts k1 to k4 (k5 and k6 are visited).
    cache.set('k6', 'z'.repeat(4998));
    expect(evicted).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect([...cache.keys()]).toEqual(order.filter((key) => !evicted.includes(String(key))));
    expect(cache.get('k6')).toBe('z'.repeat(4998));
    expect(cache.calculatedSize).toBe(10 * 1000 + 6064 - 5 * 1000 + 1 + 4000);
    checkInvariants(cache);
  });

  it('one bound for every instance of a shared cache', () => {
    const first = new SlabLruCache({ ...LIMITS, maxSize: MAX_SIZE });
    const second = SlabLruCache.attach(first.handle);
    const rng = makeRng(8);
    for (let step = 0; step < 2000; step++) {
      const cache = step % 2 === 0 ? first : second;
      cache.set(`k${randInt(rng, 200)}`, valueOf(rng, step, randInt(rng, 1000)));
      expect(second.calculatedSize).toBe(first.calculatedSize);
      expect(first.calculatedSize).toBeLessThanOrEqual(MAX_SIZE);
    }
    checkInvariants(second);
    expect(first.stats().evictions_by_cause.size).toBeGreaterThan(0);
  });

  it('slab memory still binds when it runs out first', () => {
    // Tiny values: each entry's header and size-class rounding outweigh its key and value.
    const cache = new SlabLruCache({ maxKeys: 100_000, maxBytes: 8 * 4096, pageBytes: 4096, maxValueBytes: 100, maxKeyBytes: 16, maxSize: 8 * 4096 });
    for (let i = 0; i < 5000; i++) cache.set(`k${i}`, 'v');
    const stats = cache.stats();
    expect(stats.evictions_by_cause.bytes).toBeGreaterThan(0);
    expect(stats.evictions_by_cause.size).toBe(0);
    expect(stats.slab_bytes).toBeLessThanOrEqual(8 * 4096);
    checkInvariants(cache);
  });

  it('a snapshot loaded into a cache with a smaller maxSize keeps the most recent entries that fit', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'max-size-'));
    try {
      const source = new SlabLruCache(LIMITS);
      for (let i = 0; i < 100; i++) source.set(`k${i}`, 'v'.repeat(998)); // about 1,000 key + value bytes each
      const file = path.join(dir, 'cache.snap');
      await saveSnapshot(source, file);
      const { cache, stats } = await loadSnapshot(file, { ...LIMITS, maxSize: 30_000 });
      checkInvariants(cache);
      const newest = [...source.keys()];
      const kept = [...cache.keys()];
      expect(kept).toEqual(newest.slice(0, kept.length));
      expect(cache.calculatedSize).toBeLessThanOrEqual(30_000);
      // The next entry would not have fitted.
      const next = String(newest[kept.length]);
      expect(cache.calculatedSize + payload(next, 'v'.repeat(998))).toBeGreaterThan(30_000);
      expect(stats.dropped).toBe(100 - kept.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
