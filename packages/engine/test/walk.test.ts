/**
 * The snapshot walk: visits entries from least to most recent, one step at a
 * time, while the cache keeps changing; the cursor (the LRU sentinel) never
 * breaks the cache's own invariants or its eviction order.
 */
import { SlabLruCache, checkInvariants } from '@slabcache/engine';

const make = (maxKeys = 100): SlabLruCache =>
  new SlabLruCache({ maxKeys, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000 });

function walkAll(cache: SlabLruCache, step: number, between?: (round: number) => void): string[] {
  const seen: string[] = [];
  cache.beginWalk();
  let round = 0;
  try {
    while (
      cache.walkStep(step, (arena, keyStart, keyLength, valueStart, valueLength) => {
        seen.push(`${arena.toString('utf8', keyStart, keyStart + keyLength)}=${arena.toString('utf8', valueStart, valueStart + valueLength)}`);
      })
    ) {
      checkInvariants(cache);
      between?.(round++);
    }
  } finally {
    cache.endWalk();
  }
  checkInvariants(cache);
  return seen;
}

describe('snapshot walk', () => {
  it('visits every entry from least to most recent', () => {
    const cache = make();
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, `v${i}`);
    cache.get('k3');
    expect(walkAll(cache, 3)).toEqual([...cache.entries()].reverse().map(([k, v]) => `${k}=${v}`));
  });

  it('survives sets, gets, deletes and evictions between steps', () => {
    const cache = make(12);
    for (let i = 0; i < 12; i++) cache.set(`k${i}`, `v${i}`);
    const seen = walkAll(cache, 2, (round) => {
      cache.get('k0'); // already visited: moves ahead of the cursor, visited again
      cache.delete(`k${11 - round}`); // not yet visited: never seen
      cache.set(`new${round}`, 'n'); // ahead of the cursor: visited
    });
    expect(seen[0]).toBe('k0=v0');
    expect(seen.filter((s) => s === 'k0=v0').length).toBeGreaterThan(1);
    expect(seen).toContain('new0=n');
    expect(seen).not.toContain('k11=v11');
    // The last visit of each key is in the cache's current order (least recent first).
    const lastVisits = [...new Map(seen.map((s, i) => [s.split('=')[0], i])).entries()]
      .filter(([k]) => cache.has(k!))
      .sort((a, b) => a[1] - b[1])
      .map(([k]) => k);
    expect(lastVisits).toEqual([...cache.keys()].reverse());
  });

  it('eviction skips the cursor, and clear ends the walk', () => {
    const cache = make(3);
    cache.set('a', '1').set('b', '2').set('c', '3');
    cache.beginWalk();
    cache.set('d', '4'); // evicts 'a', the least recent entry, not the cursor at the tail
    expect([...cache.keys()]).toEqual(['d', 'c', 'b']);
    checkInvariants(cache);
    expect(() => cache.beginWalk()).toThrow(/already running/);
    cache.clear();
    expect(cache.walkStep(10, () => undefined)).toBe(false);
    cache.endWalk();
    cache.beginWalk();
    cache.endWalk();
    checkInvariants(cache);
  });
});
