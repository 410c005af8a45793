/**
 * Snapshot round trips: what is saved comes back byte for byte, with its TTL
 * and in the same LRU order; expired entries are dropped; a smaller cache keeps
 * the most recent entries. Saves taken while the cache changes are tested in
 * snapshot-exact.test.ts.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  SlabLruCache,
  SnapshotError,
  checkInvariants,
  inspectSnapshot,
  loadSnapshot,
  restoreSnapshot,
  saveSnapshot,
} from '@slabcache/engine';

import { makeRng, randInt } from './support/rng';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snapshot-roundtrip-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

const small = (maxKeys = 1000): SlabLruCache =>
  new SlabLruCache({ maxKeys, maxBytes: 4 << 20, pageBytes: 65536, maxValueBytes: 8000, maxKeyBytes: 300 });

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('snapshot round trip', () => {
  it('keeps values byte for byte (binary, UTF-8, empty), binary keys, TTLs, LRU order and contents stats', async () => {
    const cache = small();
    cache.set('plain', 'hello');
    cache.set('utf8', 'héllo wörld — 日本語 🎉');
    cache.set('binary', allBytes);
    cache.set('empty', '');
    cache.set(Buffer.from([0xff, 0xfe, 0x00, 0x80]), 'binary key');
    cache.set('with-ttl', 'expires later', { ttl: 3_600_000 });
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, `value ${i} `.repeat(i % 7));
    cache.get('plain'); // recency changes must survive
    cache.get('k3');
    cache.delete('k50');

    const saved = await saveSnapshot(cache, file('small.snap'));
    expect(saved.entries).toBe(cache.size);
    expect(saved.blocks).toBeGreaterThanOrEqual(1);
    const { cache: loaded, stats } = await loadSnapshot(file('small.snap'));
    checkInvariants(loaded);

    expect(stats.entries).toBe(cache.size);
    expect(stats.records).toBe(cache.size);
    expect(stats.expired).toBe(0);
    expect([...loaded.keys()]).toEqual([...cache.keys()]);
    expect([...loaded.entries()]).toEqual([...cache.entries()]);
    expect(loaded.getBytes('binary')).toEqual(allBytes);
    expect(loaded.get('utf8')).toBe('héllo wörld — 日本語 🎉');
    expect(loaded.get('empty')).toBe('');
    expect(loaded.get(Buffer.from([0xff, 0xfe, 0x00, 0x80]))).toBe('binary key');
    const ttl = loaded.getRemainingTTL('with-ttl');
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(loaded.getRemainingTTL('plain')).toBe(Infinity);

    const before = cache.stats();
    const after = loaded.stats();
    expect(after.curr_items).toBe(before.curr_items);
    expect(after.bytes).toBe(before.bytes);
    // The load's own sets are not counted: a restored cache counts from zero.
    expect(after.cmd_set).toBe(0);
    expect(after.total_items).toBe(0);
    expect(after.evictions).toBe(0);
    // Built with the saved cache's options by default.
    expect(loaded.options).toEqual(cache.options);
  });

  it('round-trips 200k entries with random sizes and TTLs in order', async () => {
    const rng = makeRng(8);
    const cache = new SlabLruCache({ maxKeys: 250_000, maxBytes: 96 << 20, maxValueBytes: 4096 });
    for (let i = 0; i < 200_000; i++) {
      const value = Buffer.alloc(randInt(rng, 300));
      for (let j = 0; j < value.length; j += 7) value[j] = randInt(rng, 256);
      cache.set(`key:${i}`, value, i % 10 === 0 ? { ttl: 3_600_000 } : undefined);
    }
    for (let i = 0; i < 20_000; i++) cache.get(`key:${randInt(rng, 200_000)}`);
    const saved = await saveSnapshot(cache, file('large.snap'), { fsync: false });
    expect(saved.entries).toBe(cache.size);
    expect(saved.blocks).toBeGreaterThan(40); // bounded chunks: 4,096 entries at most per block

    const info = await inspectSnapshot(file('large.snap'));
    expect(info.records).toBe(200_000);
    expect(info.fileBytes).toBe(saved.bytes);

    const { cache: loaded } = await loadSnapshot(file('large.snap'));
    checkInvariants(loaded);
    expect(loaded.size).toBe(cache.size);
    expect(loaded.stats().bytes).toBe(cache.stats().bytes);
    const order = [...cache.keys()];
    expect([...loaded.keys()]).toEqual(order);
    for (let i = 0; i < 200_000; i += 97) {
      expect(loaded.peekBytes(`key:${i}`)).toEqual(cache.peekBytes(`key:${i}`));
      expect(loaded.getRemainingTTL(`key:${i}`) === Infinity).toBe(i % 10 !== 0);
    }
  }, 120_000);

  it('drops entries whose TTL passed before the load', async () => {
    // Only Date is faked, so that the save cannot be slow enough to see the entry expire first.
    jest.useFakeTimers({
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
    });
    try {
      const start = Date.now();
      const cache = small();
      cache.set('short', 'gone soon', { ttl: 1000 });
      cache.set('long', 'stays', { ttl: 3_600_000 });
      cache.set('forever', 'stays');
      await saveSnapshot(cache, file('ttl.snap'));
      jest.setSystemTime(start + 2000);
      const { cache: loaded, stats } = await loadSnapshot(file('ttl.snap'));
      expect(stats.records).toBe(3);
      expect(stats.expired).toBe(1);
      expect([...loaded.keys()]).toEqual(['forever', 'long']);
      expect(loaded.has('short')).toBe(false);
      expect(loaded.getRemainingTTL('long')).toBe(3_600_000 - 2000);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rebuilds under other options; a smaller cache keeps the most recent entries', async () => {
    const cache = small(1000);
    for (let i = 0; i < 500; i++) cache.set(`k${i}`, 'v'.repeat(100));
    await saveSnapshot(cache, file('options.snap'));

    const { cache: smaller, stats } = await loadSnapshot(file('options.snap'), {
      maxKeys: 100,
      maxBytes: 1 << 20,
      pageBytes: 16384,
      maxValueBytes: 1000,
      growthFactor: 1.5,
    });
    checkInvariants(smaller);
    expect(smaller.size).toBe(100);
    expect(stats.dropped).toBe(400);
    expect([...smaller.keys()]).toEqual([...cache.keys()].slice(0, 100));

    const bigger = new SlabLruCache({ maxKeys: 5000, maxBytes: 8 << 20 });
    const restored = await restoreSnapshot(bigger, file('options.snap'));
    expect(restored.entries).toBe(500);
    expect([...bigger.keys()]).toEqual([...cache.keys()]);
  });

  it('refuses a cache whose key or value limit is below the snapshot\'s entries, before loading anything', async () => {
    const cache = small();
    cache.set('a-rather-long-key-of-40-bytes-0123456789', 'v');
    cache.set('k', 'x'.repeat(5000));
    await saveSnapshot(cache, file('limits.snap'));
    await expect(loadSnapshot(file('limits.snap'), { maxKeyBytes: 10 })).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_INCOMPATIBLE',
      message: expect.stringMatching(/key of 40 bytes, over this cache's maxKeyBytes of 10/),
    });
    const target = new SlabLruCache({ maxKeys: 100, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000 });
    await expect(restoreSnapshot(target, file('limits.snap'))).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_INCOMPATIBLE',
      message: expect.stringMatching(/value of 5000 bytes, over this cache's maxValueBytes of 1000/),
    });
    expect(target.size).toBe(0);
  });

  it('restores only into an empty cache', async () => {
    const cache = small();
    cache.set('a', '1');
    await saveSnapshot(cache, file('nonempty.snap'));
    await expect(restoreSnapshot(cache, file('nonempty.snap'))).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_NOT_EMPTY' });
    expect([...cache.entries()]).toEqual([['a', '1']]);
  });

  it('round-trips an empty cache', async () => {
    await saveSnapshot(small(), file('empty.snap'));
    const { cache, stats } = await loadSnapshot(file('empty.snap'));
    expect(cache.size).toBe(0);
    expect(stats.records).toBe(0);
  });

  it('refuses a second save of the same cache while one runs, and leaves no temporary file', async () => {
    const cache = small();
    for (let i = 0; i < 300; i++) cache.set(`k${i}`, 'v');
    const first = saveSnapshot(cache, file('busy.snap'), { chunkEntries: 10 });
    await expect(saveSnapshot(cache, file('busy2.snap'))).rejects.toBeInstanceOf(SnapshotError);
    await expect(saveSnapshot(cache, file('busy2.snap'))).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_BUSY' });
    expect((await first).entries).toBe(300);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
    checkInvariants(cache);
  });

});
