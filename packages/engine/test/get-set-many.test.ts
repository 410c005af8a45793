/**
 * The batch calls are the single ones made faster by starting a group's memory
 * reads together (lookupWarmer.ts): `getMany(keys)` is
 * `keys.map((key) => cache.get(key))`, and `setMany(entries)` is a `set` per
 * entry in order. These tests hold them to that: two caches built alike take
 * the same seeded operations, one in batches and one key by key, and must agree
 * on every value, every error, every disposal, every statistic and the final
 * recency order — with either policy, with TTLs expiring under a fake clock,
 * with keys that are absent, too long, non-ASCII or bytes, with an entry that
 * set refuses in the middle of a batch, and in each locking mode (alone, shared
 * under the lock, and SIEVE's reads without it).
 */
import { CacheLimitError, SlabLruCache, checkInvariants, entriesStoredBefore, type CacheOptions, type DisposeReason, type Key, type PolicyName, type SetOptions, type Value } from '@slabcache/engine';
import { WARM_MIN_INDEX_SLOTS } from '../src/lookupWarmer';
import { makeRng, randInt } from './support/rng';

const T0 = 1_800_000_000_000;

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
});
afterEach(() => {
  jest.useRealTimers();
});

type Disposal = [string, string, DisposeReason];

/** What `fn` threw (its class and message), or undefined. */
function errorOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

function pair(policy: PolicyName, shared: boolean): { batched: SlabLruCache; single: SlabLruCache; disposed: [Disposal[], Disposal[]] } {
  const disposed: [Disposal[], Disposal[]] = [[], []];
  const make = (log: Disposal[]): SlabLruCache => {
    const options: CacheOptions = {
      // An index big enough for getMany to warm its reads (WARM_MIN_INDEX_SLOTS); evictions come from the byte bound.
      maxKeys: 1 << 20,
      maxBytes: 16 << 10,
      pageBytes: 4096,
      maxValueBytes: 200,
      maxKeyBytes: 40,
      policy,
      dispose: (value, key, reason) => log.push([String(key), String(value), reason]),
    };
    const cache = new SlabLruCache(options);
    // Taking the handle shares the cache: operations lock from then on (SIEVE's reads go without the lock).
    if (shared) void cache.handle;
    return cache;
  };
  return { batched: make(disposed[0]), single: make(disposed[1]), disposed };
}

/** A key from a space of 500: mostly ASCII strings, some non-ASCII, some bytes; some keys over maxKeyBytes. */
function keyOf(rng: () => number): Key {
  const n = randInt(rng, 500);
  const kind = randInt(rng, 20);
  if (kind === 0) return Buffer.from(`bin:${n}`);
  if (kind === 1) return `ключ:${n}`;
  if (kind === 2) return `long:${'x'.repeat(40)}:${n}`;
  return `key:${n}`;
}

describe.each([
  ['lru', false],
  ['sieve', false],
  ['lru', true],
  ['sieve', true],
] as const)('getMany and setMany, policy %s, shared %s', (policy, shared) => {
  it.each([1, 2, 3])('agree with one get or set per key over seeded operations (seed %i)', (seed) => {
    const rng = makeRng(seed * 7919 + (policy === 'lru' ? 0 : 1) + (shared ? 2 : 0));
    const { batched, single, disposed } = pair(policy, shared);
    let batches = 0;
    let hits = 0;
    let refused = 0;
    for (let step = 0; step < 3000; step++) {
      const op = randInt(rng, 10);
      if (op < 4) {
        // A batch of sets; now and then one entry in it is refused (a key or value over its limit).
        const entries: [Key, Value, SetOptions?][] = [];
        for (let n = 1 + randInt(rng, 40); n > 0; n--) {
          const key = keyOf(rng);
          const ttl = randInt(rng, 4) === 0 ? 1 + randInt(rng, 50) : undefined;
          const value = randInt(rng, 300) === 0 ? 'x'.repeat(201) : `v${step}`.padEnd(16 + randInt(rng, 4), '.');
          entries.push(ttl === undefined ? [key, value] : [key, value, { ttl }]);
        }
        let caught: unknown;
        const batchedError = errorOf(() => {
          try {
            batched.setMany(entries);
          } catch (error) {
            caught = error;
            throw error;
          }
        });
        let setBefore = 0;
        const singleError = errorOf(() => {
          for (const [key, value, options] of entries) {
            single.set(key, value, options);
            setBefore++;
          }
        });
        expect(batchedError).toEqual(singleError);
        expect(entriesStoredBefore(caught)).toBe(singleError === undefined ? undefined : setBefore);
        if (singleError !== undefined) refused++;
      } else if (op < 5) {
        const key = keyOf(rng);
        expect(batched.delete(key)).toBe(single.delete(key));
      } else if (op < 6) {
        jest.setSystemTime(Date.now() + randInt(rng, 20));
      } else {
        // Batches from empty to several groups long, with repeats.
        const keys = Array.from({ length: randInt(rng, 90) }, () => keyOf(rng));
        const got = batched.getMany(keys);
        const expected = keys.map((key) => single.get(key));
        expect(got).toEqual(expected);
        batches++;
        hits += expected.filter((value) => value !== undefined).length;
      }
    }
    expect(batched.stats().index_slots).toBeGreaterThanOrEqual(WARM_MIN_INDEX_SLOTS);
    expect(batches).toBeGreaterThan(1000);
    expect(hits).toBeGreaterThan(3000);
    expect(refused).toBeGreaterThan(50);
    expect(disposed[0]).toEqual(disposed[1]);
    expect(disposed[1].some(([, , reason]) => reason === 'expire')).toBe(true);
    expect(disposed[1].some(([, , reason]) => reason === 'evict')).toBe(true);
    const { get_hits, get_misses, get_expired, evictions, reclaimed, ...rest } = batched.stats();
    const other = single.stats();
    expect({ get_hits, get_misses, get_expired, evictions, reclaimed }).toEqual({
      get_hits: other.get_hits,
      get_misses: other.get_misses,
      get_expired: other.get_expired,
      evictions: other.evictions,
      reclaimed: other.reclaimed,
    });
    expect(rest.curr_items).toBe(other.curr_items);
    // The same recency order (LRU) or queue order and visited bits (SIEVE): evicting everything in turn tells.
    expect([...batched.keys()].map(String)).toEqual([...single.keys()].map(String));
    for (let i = 0; i < 4000; i++) {
      batched.set(`flush:${i}`, 'f'.repeat(100));
      single.set(`flush:${i}`, 'f'.repeat(100));
    }
    expect(disposed[0]).toEqual(disposed[1]);
    checkInvariants(batched);
    checkInvariants(single);
  });
});

describe('getMany input', () => {
  it('refuses a key of the wrong type by its position, before reading any key', () => {
    const cache = new SlabLruCache({ maxKeys: 10 });
    cache.set('a', '1');
    expect(() => cache.getMany(['a', 42 as unknown as string])).toThrow(new TypeError('keys[1] must be a string or a Uint8Array, got number'));
    expect(() => cache.getMany('a' as unknown as string[])).toThrow(TypeError);
    expect(cache.stats()).toMatchObject({ get_hits: 0, get_misses: 0 });
  });

  it('returns an empty array for no keys, and undefined for a key over maxKeyBytes', () => {
    const cache = new SlabLruCache({ maxKeys: 10, maxKeyBytes: 8 });
    cache.set('a', '1');
    expect(cache.getMany([])).toEqual([]);
    expect(cache.getMany(['a', 'much-too-long-key', 'b'])).toEqual(['1', undefined, undefined]);
    expect(cache.stats()).toMatchObject({ get_hits: 1, get_misses: 2 });
  });

  it('setMany refuses an entry that is not an array by its position, before setting any', () => {
    const cache = new SlabLruCache({ maxKeys: 10 });
    expect(() => cache.setMany([['a', '1'], 'b' as unknown as [string, string]])).toThrow(
      new TypeError('entries[1] must be a [key, value] or [key, value, options] array, got string'),
    );
    expect(() => cache.setMany({} as unknown as [string, string][])).toThrow(TypeError);
    expect(cache.size).toBe(0);
    expect(cache.setMany([])).toBe(cache);
  });

  it('setMany stops at an entry that set refuses; the entries before it stay set', () => {
    const cache = new SlabLruCache({ maxKeys: 10, maxValueBytes: 4 });
    let error: unknown;
    try {
      cache.setMany([['a', '1'], ['b', 'too long'], ['c', '3']]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CacheLimitError);
    expect((error as Error).message).toMatch('maxValueBytes');
    expect(entriesStoredBefore(error)).toBe(1);
    expect([...cache.keys()]).toEqual(['a']);
    cache.setMany([['d', '4', { ttl: 1000 }]]);
    expect(cache.getRemainingTTL('d')).toBe(1000);
  });
});
