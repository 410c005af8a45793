/**
 * Issue 15: the `sieve` policy follows SIEVE exactly — its hand and visited
 * bits against a tiny reference model written from the paper, in small
 * scenarios and over long seeded sequences (same hits, same evictions in the
 * same order) — and everything else (byte bounds, TTL, invariants) works
 * with it.
 */
import { SlabLruCache, checkInvariants } from '@slabcache/engine';
import { makeRng, randInt } from './support/rng';
import { runSieveDifferential } from './support/sieveDifferential';
import { SieveModel } from './support/sieveModel';

const options = { maxBytes: 4 << 20, pageBytes: 65536, maxValueBytes: 100 };

function sieve(max: number, evicted: string[] = []): SlabLruCache {
  return new SlabLruCache({ max, ...options, policy: 'sieve', dispose: (_v, k, reason) => reason === 'evict' && evicted.push(String(k)) });
}

describe('SIEVE', () => {
  it('evicts the oldest unvisited entry; the hand clears visited bits on its way and stays where it stopped', () => {
    const evicted: string[] = [];
    const cache = sieve(4, evicted);
    const model = new SieveModel(4);
    const set = (k: string): void => {
      cache.set(k, 'v');
      model.set(k);
    };
    const get = (k: string): void => {
      cache.get(k);
      model.get(k);
    };
    for (const k of ['a', 'b', 'c', 'd']) set(k);
    get('a');
    get('b');
    // Queue (oldest first) a* b* c d: the hand clears a and b, evicts c, and rests at d.
    set('e');
    expect(evicted).toEqual(['c']);
    expect(cache.stats().sieve_passed).toBe(2);
    // From there it goes on toward newer entries: d, then the new e and f, before it wraps.
    set('f');
    set('g');
    set('h');
    expect(evicted).toEqual(['c', 'd', 'e', 'f']);
    // a and b, visited once, are still there; a hit never moved them.
    expect([...cache.keys()]).toEqual(['h', 'g', 'b', 'a']);
    for (const k of ['i', 'j', 'k', 'l', 'm']) set(k);
    expect(evicted).toEqual(model.evicted);
    expect([...cache.keys()]).toEqual(model.keys());
    checkInvariants(cache);
  });

  it('a set of a cached key counts as a hit (visited) and keeps its place', () => {
    const evicted: string[] = [];
    const cache = sieve(3, evicted);
    cache.set('a', '1').set('b', '1').set('c', '1');
    cache.set('a', '2'); // same size class: in place, visited
    cache.set('d', '1');
    expect(evicted).toEqual(['b']);
    expect(cache.get('a')).toBe('2');
    expect([...cache.keys()]).toEqual(['d', 'c', 'a']);
  });

  it('deleting the entry under the hand moves the hand to its newer neighbour', () => {
    const model = new SieveModel(4);
    const evicted: string[] = [];
    const cache = sieve(4, evicted);
    for (const k of ['a', 'b', 'c', 'd']) {
      cache.set(k, 'v');
      model.set(k);
    }
    for (const k of ['a', 'b']) {
      cache.get(k);
      model.get(k);
    }
    cache.set('e', 'v'); // hand now at d
    model.set('e');
    cache.delete('d');
    model.delete('d');
    cache.set('f', 'v');
    model.set('f');
    cache.set('g', 'v');
    model.set('g');
    expect(evicted).toEqual(model.evicted);
    expect([...cache.keys()]).toEqual(model.keys());
  });

  it('a value of another size class keeps the entry\'s place and visited bit; an iterator about to step onto its old chunk notices', () => {
    const evicted: string[] = [];
    const cache = sieve(3, evicted);
    cache.set('a', '1').set('b', '1').set('c', '1');
    cache.set('a', 'x'.repeat(90)); // another size class: a new chunk, the same place, visited
    cache.set('d', '1');
    expect(evicted).toEqual(['b']);
    expect([...cache.keys()]).toEqual(['d', 'c', 'a']);
    expect(cache.get('a')).toBe('x'.repeat(90));
    checkInvariants(cache);
    // Newest first: at 'd', the next entry is 'c'; moving 'c' to a new chunk must not go unnoticed.
    const seen: string[] = [];
    expect(() => {
      for (const key of cache.keys()) {
        seen.push(String(key));
        if (key === 'd') cache.set('c', 'y'.repeat(90));
      }
    }).toThrow(/removed during iteration/);
    expect(seen).toEqual(['d']);
    checkInvariants(cache);
  });

  it('in a cache of one page, an update into another size class that needs the page evicts the old value, then stores the new one', () => {
    const disposed: string[] = [];
    const cache = new SlabLruCache({
      maxKeys: 10,
      maxBytes: 4096,
      pageBytes: 4096,
      maxKeyBytes: 8,
      maxValueBytes: 2000,
      policy: 'sieve',
      dispose: (value, key, reason) => disposed.push(`${String(key)}=${String(value).length} ${reason}`),
    });
    cache.set('a', 'x'.repeat(10));
    // The page is cut into the small entry's class; a 2,000-byte value needs it whole.
    cache.set('a', 'y'.repeat(2000));
    expect(cache.get('a')).toBe('y'.repeat(2000));
    expect(cache.size).toBe(1);
    expect(disposed).toEqual(['a=10 evict']);
    expect(cache.stats().evictions_by_cause.bytes).toBe(1);
    checkInvariants(cache);
  });

  it.each([1, 2, 3, 4, 5, 6])('seed %i: same hits and same evictions as the reference model over 20,000 operations', (seed) => {
    const rng = makeRng(seed);
    const max = 20 + randInt(rng, 200);
    const keySpace = max * (2 + randInt(rng, 4));
    const evicted: string[] = [];
    const cache = sieve(max, evicted);
    const model = new SieveModel(max);
    const hits = runSieveDifferential({ seed, rng, steps: 20_000, keySpace, cache, evicted, model, valueOf: () => 'value', costOf: () => 1 });
    expect(hits).toBeGreaterThan(1000);
    expect(cache.stats().sieve_passed).toBeGreaterThan(0);
  });

  it('works under a byte bound, with TTLs and page moves, keeping every invariant', () => {
    const realNow = Date.now;
    let now = 1_000_000;
    Date.now = () => now;
    try {
      const cache = new SlabLruCache({ maxKeys: 10_000, maxBytes: 24 * 4096, pageBytes: 4096, maxValueBytes: 3000, policy: 'sieve' });
      const rng = makeRng(9);
      for (let i = 0; i < 20_000; i++) {
        const key = `k${randInt(rng, 3000)}`;
        const r = rng();
        if (r < 0.5) cache.set(key, Buffer.alloc(randInt(rng, 3000)), rng() < 0.2 ? { ttl: 1 + randInt(rng, 50) } : undefined);
        else if (r < 0.9) cache.get(key);
        else if (r < 0.97) cache.delete(key);
        else now += randInt(rng, 20);
        if (i % 1000 === 0) checkInvariants(cache);
      }
      checkInvariants(cache);
      const stats = cache.stats();
      expect(stats.evictions_by_cause.bytes).toBeGreaterThan(0);
      expect(stats.slabs_moved).toBeGreaterThan(0);
      expect(stats.slab_bytes).toBeLessThanOrEqual(24 * 4096);
    } finally {
      Date.now = realNow;
    }
  });

  it('refuses an unknown policy, naming the choices', () => {
    expect(() => new SlabLruCache({ policy: 'arc' as 'lru' })).toThrow(/policy option must be one of "lru", "sieve", got "arc"/);
  });
});
