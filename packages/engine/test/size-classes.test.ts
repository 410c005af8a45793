import { SlabLruCache } from '@slabcache/engine';

/**
 * The rounding the README's "Sizing for a memory budget" documents: for each
 * range of entry sizes (header + key + value), the most a chunk of the class
 * an entry lands in exceeds it, with the default options. Each bound must
 * hold, and be tight (within half a percent), so the table cannot drift from
 * the code in either direction.
 */
const DOCUMENTED: ReadonlyArray<{ from: number; to: number; worst: number | { bytes: number } }> = [
  { from: 13, to: 64, worst: { bytes: 3 } },
  { from: 65, to: 256, worst: 0.102 },
  { from: 257, to: 16 * 1024, worst: 0.071 },
  { from: 16 * 1024 + 1, to: 32 * 1024, worst: 0.089 },
  { from: 32 * 1024 + 1, to: 64 * 1024, worst: 0.118 },
  { from: 64 * 1024 + 1, to: 128 * 1024, worst: 0.126 },
  { from: 128 * 1024 + 1, to: 256 * 1024, worst: 0.251 },
  { from: 256 * 1024 + 1, to: 512 * 1024, worst: 0.501 },
  { from: 512 * 1024 + 1, to: Infinity, worst: 1 },
];

describe('size-class rounding with the default options', () => {
  const cache = new SlabLruCache({ maxKeys: 10, maxBytes: 8 * 1024 * 1024 });
  const pageBytes = cache.options.pageBytes;

  /**
   * The chunk size of the class an entry of `entryBytes` lands in, found the
   * way a user would see it: store one such entry and read its class from
   * stats(). Key 'k' (1 byte); the header is 12 bytes, or 20 for a value over
   * 65,534 bytes, so entries of 65,548 to 65,555 bytes cannot be made this way.
   */
  function chunkOf(entryBytes: number): number {
    const valueBytes = entryBytes - 1 - (entryBytes - 13 > 65_534 ? 20 : 12);
    cache.set('k', 'x'.repeat(valueBytes));
    const stats = cache.stats();
    expect(stats.bytes).toBe(entryBytes);
    const chunk = stats.classes.find((c) => c.used_chunks === 1)!.chunk_size;
    cache.delete('k');
    return chunk;
  }

  /** Every class's chunk size: probe the smallest entry, then the entry one byte past each class. */
  const chunkSizes: number[] = [];
  for (let bytes = 13; bytes <= pageBytes; ) {
    const reachable = bytes < 65_548 || bytes > 65_555 ? bytes : 65_556;
    const chunk = chunkOf(reachable);
    chunkSizes.push(chunk);
    bytes = chunk + 1;
  }
  /** The chunk an entry of `bytes` is stored in: the smallest class that holds it. */
  const chunkFor = (bytes: number): number => chunkSizes.find((size) => size >= bytes)!;

  it('has a class for every entry up to a whole page, ascending', () => {
    expect(chunkSizes.at(-1)).toBe(pageBytes);
    for (let i = 1; i < chunkSizes.length; i++) expect(chunkSizes[i]!).toBeGreaterThan(chunkSizes[i - 1]!);
  });

  it.each(DOCUMENTED)('entries of $from to $to bytes: the README bound holds and is tight', ({ from, to, worst }) => {
    let worstBytes = 0;
    let worstShare = 0;
    for (let bytes = from; bytes <= Math.min(to, pageBytes); bytes++) {
      const over = chunkFor(bytes) - bytes;
      worstBytes = Math.max(worstBytes, over);
      worstShare = Math.max(worstShare, over / bytes);
    }
    if (typeof worst === 'number') {
      expect(worstShare).toBeLessThanOrEqual(worst);
      expect(worstShare).toBeGreaterThan(worst - 0.005);
    } else {
      expect(worstBytes).toBe(worst.bytes);
    }
  });
});
