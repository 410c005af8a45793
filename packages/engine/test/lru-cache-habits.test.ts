/**
 * Issue 18: the lru-cache habits a user brings — the iteration protocol and
 * its orders, forEach, `max`, dispose with lru-cache's reasons, fetch with
 * in-flight de-duplication — checked against npm lru-cache 11 itself where
 * the two should agree, on seeded random operations.
 */
import { LRUCache } from 'lru-cache';
import { SlabLruCache, checkInvariants, type DisposeReason } from '@slabcache/engine';
import { makeRng, randInt } from './support/rng';

const options = { maxBytes: 4 << 20, pageBytes: 65536, maxValueBytes: 2000 };

describe('lru-cache habits', () => {
  it('iterates like lru-cache: [...cache], keys/values/entries, their reverses and forEach, over random operations', () => {
    for (const seed of [1, 2, 3]) {
      const rng = makeRng(seed);
      const ours = new SlabLruCache({ max: 30, ...options });
      const theirs = new LRUCache<string, string>({ max: 30 });
      for (let step = 0; step < 1500; step++) {
        const key = `k${randInt(rng, 80)}`;
        const r = rng();
        if (r < 0.5) {
          ours.set(key, `v${step}`);
          theirs.set(key, `v${step}`);
        } else if (r < 0.8) {
          expect(ours.get(key)).toBe(theirs.get(key));
        } else {
          expect(ours.delete(key)).toBe(theirs.delete(key));
        }
        if (step % 50 === 0) {
          expect([...ours]).toEqual([...theirs]);
          expect([...ours.keys()]).toEqual([...theirs.keys()]);
          expect([...ours.values()]).toEqual([...theirs.values()]);
          expect([...ours.rkeys()]).toEqual([...theirs.rkeys()]);
          expect([...ours.rvalues()]).toEqual([...theirs.rvalues()]);
          expect([...ours.rentries()]).toEqual([...theirs.rentries()]);
          const seen: unknown[] = [];
          const seenTheirs: unknown[] = [];
          ours.forEach((v, k) => seen.push([k, v]));
          theirs.forEach((v, k) => seenTheirs.push([k, v]));
          expect(seen).toEqual(seenTheirs);
        }
      }
      checkInvariants(ours);
    }
  });

  it('accepts max as the alias of maxKeys, and refuses two different values', () => {
    expect(new SlabLruCache({ max: 7, ...options }).max).toBe(7);
    expect(new SlabLruCache({ max: 7, maxKeys: 7, ...options }).max).toBe(7);
    expect(() => new SlabLruCache({ max: 7, maxKeys: 8, ...options })).toThrow(/max \(7\) and maxKeys \(8\) are the same option/);
    expect(() => new SlabLruCache({ max: 0, ...options })).toThrow(/max option must be an integer/);
  });

  it('hands keys and values back as they were set: bytes as Buffers, strings as strings', () => {
    const cache = new SlabLruCache({ max: 10, ...options });
    const byteKey = Buffer.from([0xff, 0x00, 0x80]);
    cache.set(byteKey, Buffer.from([1, 2, 3]));
    cache.set('text', 'héllo');
    const [[k1, v1], [k2, v2]] = [...cache];
    expect([k1, v1]).toEqual(['text', 'héllo']);
    expect(Buffer.isBuffer(k2)).toBe(true);
    expect(k2).toEqual(byteKey);
    expect(v2).toEqual(Buffer.from([1, 2, 3]));
    // A key from keys() finds its entry again (it used to come back as a lossy string).
    for (const key of cache.keys()) expect(cache.has(key)).toBe(true);
  });

  it('lets the loop delete the entry it is visiting, and throws if anything else is removed meanwhile', () => {
    const cache = new SlabLruCache({ max: 100, ...options });
    for (let i = 0; i < 20; i++) cache.set(`k${i}`, 'v');
    for (const key of cache.keys()) if (Number(String(key).slice(1)) % 2 === 0) cache.delete(key);
    expect(cache.size).toBe(10);
    checkInvariants(cache);
    // Reading (which moves the visited entry to the front) is fine too.
    let visited = 0;
    for (const key of cache.keys()) {
      cache.get(key);
      visited++;
    }
    expect(visited).toBe(10);
    const walk = (): void => {
      for (const key of cache.keys()) if (key === 'k19') cache.delete('k1');
    };
    expect(walk).toThrow(/removed during iteration/);
    checkInvariants(cache);
  });

  it('calls dispose after the change with lru-cache’s reasons, in lru-cache’s order', () => {
    for (const seed of [4, 5, 6]) {
      const rng = makeRng(seed);
      const ourCalls: [unknown, unknown, DisposeReason][] = [];
      const theirCalls: [unknown, unknown, string][] = [];
      const ours: SlabLruCache = new SlabLruCache({
        max: 12,
        ...options,
        dispose: (value, key, reason) => {
          // Called after the change: the cache is usable and no longer holds the old value.
          if (reason !== 'set') expect(ours.peek(key)).toBeUndefined();
          ourCalls.push([key, value, reason]);
        },
      });
      const theirs = new LRUCache<string, string>({ max: 12, disposeAfter: (value, key, reason) => theirCalls.push([key, value, reason]) });
      for (let step = 0; step < 1200; step++) {
        const key = `k${randInt(rng, 30)}`;
        const r = rng();
        if (r < 0.6) {
          // Sometimes the same value again: lru-cache does not dispose of an identical string.
          const value = rng() < 0.2 ? 'same' : `v${step}`;
          ours.set(key, value);
          theirs.set(key, value);
        } else if (r < 0.95) {
          ours.delete(key);
          theirs.delete(key);
        } else {
          ours.clear();
          theirs.clear();
        }
      }
      expect(ourCalls).toEqual(theirCalls);
      expect(ourCalls.length).toBeGreaterThan(500);
      expect(new Set(ourCalls.map((c) => c[2]))).toEqual(new Set(['set', 'evict', 'delete']));
    }
  });

  it('disposes of an expired entry with reason expire when a read finds it', () => {
    const calls: unknown[] = [];
    const realNow = Date.now;
    let now = 1_000_000;
    Date.now = () => now;
    try {
      const cache = new SlabLruCache({ max: 10, ...options, dispose: (v, k, reason) => calls.push([k, v, reason]) });
      cache.set('k', 'v', { ttl: 10 });
      now += 10;
      expect(cache.get('k')).toBeUndefined();
      expect(calls).toEqual([['k', 'v', 'expire']]);
    } finally {
      Date.now = realNow;
    }
  });

  describe('fetch', () => {
    const deferred = <T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } => {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };

    it('runs the loader once for concurrent callers, stores the value, then serves it from the cache', async () => {
      const pending = deferred<string>();
      let calls = 0;
      const cache = new SlabLruCache({
        max: 10,
        ...options,
        fetchMethod: async (key, stale, { context }) => {
          calls++;
          expect([key, stale, context]).toEqual(['user:1', undefined, calls === 1 ? 'first' : undefined]);
          return pending.promise;
        },
      });
      const callers = [cache.fetch('user:1', { context: 'first' }), cache.fetch('user:1'), cache.fetch(Buffer.from('user:1'))];
      expect(calls).toBe(1);
      pending.resolve('Ada');
      expect(await Promise.all(callers)).toEqual(['Ada', 'Ada', 'Ada']);
      expect(cache.get('user:1')).toBe('Ada');
      expect(await cache.fetch('user:1')).toBe('Ada');
      expect(calls).toBe(1);
      expect(await cache.fetch('user:1', { forceRefresh: true })).toBe('Ada');
      expect(calls).toBe(2);
    });

    it('does not cache errors: every waiter sees the error, the next fetch loads again', async () => {
      let calls = 0;
      const cache = new SlabLruCache({
        max: 10,
        ...options,
        fetchMethod: async () => {
          calls++;
          if (calls === 1) throw new Error('backend down');
          return 'ok';
        },
      });
      const results = await Promise.allSettled([cache.fetch('k'), cache.fetch('k')]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(cache.has('k')).toBe(false);
      expect(await cache.fetch('k')).toBe('ok');
      expect(calls).toBe(2);
    });

    it('an aborted caller gives up alone; the load is aborted only when every caller has', async () => {
      const pending = deferred<string>();
      let loaderSignal: AbortSignal | undefined;
      const cache = new SlabLruCache({
        max: 10,
        ...options,
        fetchMethod: (_key, _stale, { signal }) => {
          loaderSignal = signal;
          return pending.promise;
        },
      });
      const a = new AbortController();
      const b = new AbortController();
      const first = cache.fetch('k', { signal: a.signal });
      const second = cache.fetch('k', { signal: b.signal });
      a.abort(new Error('a gave up'));
      await expect(first).rejects.toThrow('a gave up');
      expect(loaderSignal!.aborted).toBe(false);
      b.abort(new Error('b gave up'));
      await expect(second).rejects.toThrow('b gave up');
      expect(loaderSignal!.aborted).toBe(true);
      pending.resolve('late');
      await Promise.resolve();
      // Nobody wanted it any more: an aborted load stores nothing.
      await new Promise((resolve) => setImmediate(resolve));
      expect(cache.has('k')).toBe(false);
    });

    it('without a fetchMethod, resolves with the cached value as it was set', async () => {
      const cache = new SlabLruCache({ max: 10, ...options });
      cache.set('k', 'v');
      cache.set('bytes', Buffer.from([0xff, 0x00]));
      expect(await cache.fetch('k')).toBe('v');
      expect(await cache.fetch('bytes')).toEqual(Buffer.from([0xff, 0x00]));
      expect(await cache.fetch('missing')).toBeUndefined();
    });

    it('a value loaded as bytes comes back as bytes from the cache too (not a lossy string)', async () => {
      const cache = new SlabLruCache({ max: 10, ...options, fetchMethod: async () => Buffer.from([0xff, 0xfe, 0x80]) });
      expect(await cache.fetch('k')).toEqual(Buffer.from([0xff, 0xfe, 0x80]));
      expect(await cache.fetch('k')).toEqual(Buffer.from([0xff, 0xfe, 0x80]));
    });
  });
});
