/**
 * The byte bound: slab memory never exceeds maxBytes, the entries evicted to
 * make room are the least recently used ones, and memory follows the workload
 * when value sizes change (pages move between size classes).
 */
import { SlabLruCache, checkInvariants } from '@slabcache/engine';
import { makeRng, randInt } from './support/rng';

const PAGE = 16384;
const MAX_BYTES = 32 * PAGE;

function boundedCache(): SlabLruCache {
  return new SlabLruCache({ maxKeys: 100_000, maxBytes: MAX_BYTES, pageBytes: PAGE, maxValueBytes: 3000, maxKeyBytes: 32 });
}

describe('byte bound', () => {
  it('never uses more slab memory than maxBytes, whatever the value sizes', () => {
    const cache = boundedCache();
    const rng = makeRng(11);
    for (let i = 0; i < 20_000; i++) {
      const key = `k${randInt(rng, 5000)}`;
      if (rng() < 0.8) cache.set(key, Buffer.alloc(randInt(rng, 3001), i & 0xff));
      else cache.delete(key);
      const stats = cache.stats();
      expect(stats.slab_bytes).toBeLessThanOrEqual(MAX_BYTES);
      expect(stats.touched_pages * PAGE).toBeLessThanOrEqual(MAX_BYTES);
      expect(stats.bytes).toBeLessThanOrEqual(stats.slab_bytes);
      if (i % 500 === 0) checkInvariants(cache);
    }
    checkInvariants(cache);
    expect(cache.stats().evictions_by_cause.bytes).toBeGreaterThan(0);
  });

  it('a big value evicts the least recently used entries, and only as many as needed', () => {
    const cache = boundedCache();
    // Fill with 100-byte values until the first eviction.
    let n = 0;
    while (cache.stats().evictions === 0) cache.set(`small${n++}`, 'x'.repeat(100));
    // Touch the oldest survivors so they become the most recent.
    const survivorsBefore = [...cache.keys()].reverse(); // oldest first
    const touched = survivorsBefore.slice(0, 10);
    for (const key of touched) cache.get(key);
    const orderBefore = [...cache.keys()]; // most recent first
    cache.set('big', 'B'.repeat(3000));
    checkInvariants(cache);
    expect(cache.get('big')).toBe('B'.repeat(3000));
    const after = new Set(cache.keys());
    after.delete('big');
    // Survivors are exactly a most-recent prefix of the old order: only the LRU end was evicted.
    expect([...after]).toEqual(orderBefore.slice(0, after.size));
    for (const key of touched) expect(cache.has(key)).toBe(true);
    // At most one page's worth of small entries (plus the big one's chunk) made room.
    const evicted = orderBefore.length - after.size;
    expect(evicted).toBeGreaterThan(0);
    expect(evicted * 112).toBeLessThanOrEqual(2 * PAGE + 3008);
  });

  it('follows the workload when value sizes change (no slab calcification)', () => {
    const cache = boundedCache();
    const fill = (prefix: string, size: number, count: number): void => {
      for (let i = 0; i < count; i++) cache.set(`${prefix}${i}`, 'v'.repeat(size));
    };
    fill('small', 100, 5000);
    const small = cache.stats();
    expect(small.bytes / MAX_BYTES).toBeGreaterThan(0.8);
    fill('large', 2500, 400);
    const large = cache.stats();
    checkInvariants(cache);
    expect(large.slabs_moved).toBeGreaterThan(0);
    // Almost all memory now holds large entries, and the last ones written are all present.
    expect(large.bytes / MAX_BYTES).toBeGreaterThan(0.75);
    for (let i = 390; i < 400; i++) expect(cache.has(`large${i}`)).toBe(true);
    fill('again', 60, 8000);
    const again = cache.stats();
    checkInvariants(cache);
    expect(again.bytes / MAX_BYTES).toBeGreaterThan(0.75);
    expect(again.slabs_moved).toBeGreaterThan(large.slabs_moved);
  });

  it('reuses the memory of deleted entries for another size class without evicting', () => {
    const cache = boundedCache();
    let n = 0;
    while (cache.stats().evictions === 0) cache.set(`s${n++}`, 'x'.repeat(100));
    for (let i = 0; i < n; i++) cache.delete(`s${i}`);
    const before = cache.stats();
    expect(before.curr_items).toBe(0);
    for (let i = 0; i < 150; i++) cache.set(`L${i}`, 'y'.repeat(2500));
    const after = cache.stats();
    checkInvariants(cache);
    expect(after.evictions).toBe(before.evictions);
    expect(after.curr_items).toBe(150);
    expect(after.slabs_moved).toBeGreaterThan(0);
  });
});
