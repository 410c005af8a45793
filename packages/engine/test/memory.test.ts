/**
 * Memory is reserved, not committed: a cache with the default 5M keys and
 * 1.5 GiB costs almost no resident memory until it holds data, and the JS heap
 * does not grow with the number of entries.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { SlabLruCache } from '@slabcache/engine';

const MiB = 1024 * 1024;

// jest runs without --expose-gc. A real collection before each heap reading keeps the verdict from
// depending on when V8 last collected: Node 24's young generation holds more short-lived garbage
// (the loop's key strings) than Node 20's, enough to cross the bound below without a collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('memory', () => {
  it('a default-size cache is resident only as far as it is used', () => {
    const rssBefore = process.memoryUsage().rss;
    const cache = new SlabLruCache();
    const rssEmpty = process.memoryUsage().rss;
    expect(cache.stats().limit_maxbytes).toBeGreaterThan(1.4 * 1024 * MiB);
    expect(rssEmpty - rssBefore).toBeLessThan(64 * MiB);

    for (let i = 0; i < 100_000; i++) cache.set(`key:${i}`, 'v'.repeat(100));
    const rssFilled = process.memoryUsage().rss;
    const stats = cache.stats();
    expect(stats.touched_pages).toBeLessThan(20);
    // 100k entries of ~120 B chunks ≈ 12 MB of slabs + entry table + index pages touched.
    expect(rssFilled - rssBefore).toBeLessThan(100 * MiB);
  });

  it('keeps entries off the JS heap', () => {
    const cache = new SlabLruCache({ maxKeys: 300_000, maxBytes: 64 * MiB });
    gc();
    const value = 'v'.repeat(100);
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200_000; i++) cache.set(`key:${i}`, value);
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    expect(cache.size).toBe(200_000);
    // 200k entries hold ~22 MB of data (a Map-based cache would add >100 B of heap per entry);
    // the heap may move by short-lived key strings, not by anything kept per entry.
    expect(heapAfter - heapBefore).toBeLessThan(12 * MiB);
  });
});
