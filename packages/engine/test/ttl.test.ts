/**
 * TTL: expiry times live in a typed array; entries expire lazily on access and
 * are reclaimed by a sweep amortised over sets (no timer per key). The clock is
 * jest's fake Date, so nothing here depends on real time.
 */
import { SlabLruCache, checkInvariants } from '@slabcache/engine';

const T0 = 1_800_000_000_000;
const make = (extra: object = {}): SlabLruCache =>
  new SlabLruCache({ maxKeys: 1000, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000, ...extra });

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('TTL', () => {
  it('expires an entry after its ttl, lazily on get', () => {
    const cache = make();
    cache.set('k', 'v', { ttl: 1000 });
    jest.setSystemTime(T0 + 999);
    expect(cache.get('k')).toBe('v');
    jest.setSystemTime(T0 + 1000);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.stats()).toMatchObject({ get_expired: 1, get_misses: 1, get_hits: 1, reclaimed: 1 });
    checkInvariants(cache);
  });

  it('applies the default ttl, and ttl 0 means never', () => {
    const cache = make({ ttl: 500 });
    cache.set('default', 'v');
    cache.set('forever', 'v', { ttl: 0 });
    jest.setSystemTime(T0 + 10_000_000);
    expect(cache.has('default')).toBe(false);
    expect(cache.peek('forever')).toBe('v');
  });

  it('has, peek, delete and getRemainingTTL see expiry', () => {
    const cache = make();
    cache.set('a', '1', { ttl: 100 });
    cache.set('b', '2', { ttl: 100 });
    cache.set('c', '3');
    expect(cache.getRemainingTTL('a')).toBe(100);
    expect(cache.getRemainingTTL('c')).toBe(Infinity);
    expect(cache.getRemainingTTL('zz')).toBe(0);
    jest.setSystemTime(T0 + 40);
    expect(cache.getRemainingTTL('a')).toBe(60);
    jest.setSystemTime(T0 + 100);
    expect(cache.has('a')).toBe(false);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.delete('b')).toBe(false);
    expect(cache.getRemainingTTL('a')).toBe(0);
    expect([...cache.keys()]).toEqual(['c']);
    checkInvariants(cache);
  });

  it('a set resets the ttl', () => {
    const cache = make();
    cache.set('k', 'v', { ttl: 100 });
    jest.setSystemTime(T0 + 90);
    cache.set('k', 'w', { ttl: 100 });
    jest.setSystemTime(T0 + 150);
    expect(cache.get('k')).toBe('w');
    cache.set('k', 'x');
    jest.setSystemTime(T0 + 100_000);
    expect(cache.get('k')).toBe('x');
  });

  it('reclaims expired entries without access, through the sweep on sets', () => {
    const cache = make();
    for (let i = 0; i < 200; i++) cache.set(`short${i}`, 'v', { ttl: 50 });
    jest.setSystemTime(T0 + 60);
    // Each set examines a few entry ids; 100 sets visit every one of the 200.
    for (let i = 0; i < 100; i++) cache.set(`long${i % 5}`, 'v');
    expect(cache.size).toBe(5);
    expect(cache.stats()).toMatchObject({ reclaimed: 200, expired_unfetched: 200, evictions: 0 });
    checkInvariants(cache);
  });

  it('purgeStale removes every expired entry at once', () => {
    const cache = make();
    for (let i = 0; i < 50; i++) cache.set(`k${i}`, 'v', { ttl: i < 30 ? 10 : 0 });
    jest.setSystemTime(T0 + 11);
    expect(cache.purgeStale()).toBe(true);
    expect(cache.size).toBe(20);
    expect(cache.purgeStale()).toBe(false);
    checkInvariants(cache);
  });

  it('an expired entry at the LRU tail is reclaimed, not counted as an eviction', () => {
    const cache = make({ maxKeys: 3 });
    cache.set('old', 'v', { ttl: 10 });
    cache.set('b', 'v');
    cache.set('c', 'v');
    jest.setSystemTime(T0 + 20);
    cache.set('d', 'v');
    expect(cache.stats()).toMatchObject({ evictions: 0, reclaimed: 1 });
    expect([...cache.keys()]).toEqual(['d', 'c', 'b']);
  });
});
