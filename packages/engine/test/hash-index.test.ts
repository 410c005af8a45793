/**
 * The open-addressing index under churn: backward-shift deletion leaves no
 * tombstones, so after hundreds of thousands of inserts and deletes probe
 * runs are as short as in a freshly built table.
 */
import { SlabLruCache, checkInvariants } from '@slabcache/engine';
import { makeRng, randInt } from './support/rng';

/** How far each entry sits from its home slot (probe length − 1), over the whole table. */
function displacements(cache: SlabLruCache): { mean: number; max: number } {
  const { index } = SlabLruCache.unsafeInternals(cache);
  let sum = 0;
  let max = 0;
  let n = 0;
  for (let slot = 0; slot < index.slots; slot++) {
    if (index.refAt(slot) === 0) continue;
    const home = index.home(index.hashAt(slot));
    const distance = slot >= home ? slot - home : slot + index.slots - home;
    sum += distance;
    max = Math.max(max, distance);
    n++;
  }
  return { mean: n === 0 ? 0 : sum / n, max };
}

describe('hash index', () => {
  it('keeps probe runs short after heavy insert/delete churn (no tombstones)', () => {
    const cache = new SlabLruCache({ maxKeys: 2000, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 100 });
    const rng = makeRng(5);
    for (let i = 0; i < 200_000; i++) {
      const key = `k${randInt(rng, 4000)}`;
      if (rng() < 0.5) cache.set(key, 'v');
      else cache.delete(key);
    }
    checkInvariants(cache);
    const churned = displacements(cache);

    const fresh = new SlabLruCache({ maxKeys: 2000, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 100 });
    for (const key of [...cache.keys()].reverse()) fresh.set(key, 'v');
    const rebuilt = displacements(fresh);
    expect(fresh.size).toBe(cache.size);
    // Same load, same kind of table: the churned one is no worse than a rebuilt one (different seeds, so allow slack).
    expect(churned.mean).toBeLessThan(rebuilt.mean * 2 + 0.5);
    expect(churned.max).toBeLessThan(64);
  });

  it('finds every key of a full table, including keys that share a home slot', () => {
    const cache = new SlabLruCache({ maxKeys: 5000, maxBytes: 4 << 20, pageBytes: 16384, maxValueBytes: 100 });
    for (let i = 0; i < 5000; i++) cache.set(`key:${i}`, `value:${i}`);
    for (let i = 0; i < 5000; i++) expect(cache.get(`key:${i}`)).toBe(`value:${i}`);
    for (let i = 0; i < 5000; i += 2) cache.delete(`key:${i}`);
    for (let i = 0; i < 5000; i++) expect(cache.has(`key:${i}`)).toBe(i % 2 === 1);
    checkInvariants(cache);
  });
});
