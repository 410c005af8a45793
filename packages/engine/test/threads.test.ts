/**
 * One cache, several threads: workers attach to the same SharedArrayBuffers
 * and hammer it with random operations under the cache lock. Afterwards the
 * structures are consistent and no thread ever read a torn or foreign value.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LockTimeoutError, SlabLruCache, checkInvariants, loadSnapshot, saveSnapshot } from '@slabcache/engine';
import { firstMessage, startTsWorker } from './support/threads';
import { checkValue } from './support/values';

jest.setTimeout(120_000);

interface StressResult {
  errors: string[];
  reads: number;
  hits: number;
}

describe('threads sharing one cache', () => {
  it('stays consistent under concurrent random operations from 3 threads', async () => {
    const cache = new SlabLruCache({ maxKeys: 600, maxBytes: 256 * 1024, pageBytes: 16384, maxValueBytes: 1500 });
    const workers = [1, 2, 3].map((seed) =>
      startTsWorker(path.join(__dirname, 'support/stress-worker.ts'), { handle: cache.handle, seed, ops: 40_000, keySpace: 800 }),
    );
    const results = await Promise.all(workers.map((w) => firstMessage<StressResult>(w)));
    await Promise.all(workers.map((w) => w.terminate()));
    for (const result of results) {
      expect(result.errors).toEqual([]);
      expect(result.hits).toBeGreaterThan(300);
    }
    checkInvariants(cache);
    for (const [key, value] of cache.entries()) expect([key, checkValue(key, value)]).toEqual([key, undefined]);
    const stats = cache.stats();
    expect(stats.cmd_set).toBeGreaterThan(40_000);
    expect(stats.evictions).toBeGreaterThan(0);
  });

  it('SIEVE: reads without the lock from 4 threads never see a torn value, and the structures stay consistent', async () => {
    const cache = new SlabLruCache({ maxKeys: 600, maxBytes: 256 * 1024, pageBytes: 16384, maxValueBytes: 1500, policy: 'sieve' });
    const workers = [11, 12, 13, 14].map((seed) =>
      startTsWorker(path.join(__dirname, 'support/stress-worker.ts'), { handle: cache.handle, seed, ops: 40_000, keySpace: 800 }),
    );
    const results = await Promise.all(workers.map((w) => firstMessage<StressResult>(w)));
    await Promise.all(workers.map((w) => w.terminate()));
    for (const result of results) {
      expect(result.errors).toEqual([]);
      expect(result.hits).toBeGreaterThan(300);
    }
    checkInvariants(cache);
    for (const [key, value] of cache.entries()) expect([key, checkValue(String(key), String(value))]).toEqual([key, undefined]);
    const stats = cache.stats();
    // The reads really went without the lock (most of them), while writers changed the same entries.
    expect(stats.lock_free_reads).toBeGreaterThan(50_000);
    expect(stats.evictions).toBeGreaterThan(0);
  });

  it('SIEVE: snapshots saved while 3 threads read without the lock and write hold only whole values, and load consistent', async () => {
    const cache = new SlabLruCache({ maxKeys: 600, maxBytes: 256 * 1024, pageBytes: 16384, maxValueBytes: 1500, policy: 'sieve' });
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const workers = [21, 22, 23].map((seed) =>
      startTsWorker(path.join(__dirname, 'support/stress-worker.ts'), { handle: cache.handle, seed, ops: 20_000, keySpace: 800, stop: stop.buffer }),
    );
    const results = Promise.all(workers.map((w) => firstMessage<StressResult>(w)));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'threads-snapshot-'));
    try {
      // Every save below runs while the workers run: they stop only when told, after the last save.
      while (cache.stats().cmd_set === 0) await new Promise((resolve) => setImmediate(resolve));
      const files: string[] = [];
      for (let i = 0; i < 12; i++) {
        const file = path.join(dir, `save-${i}.snap`);
        await saveSnapshot(cache, file, { chunkEntries: 40, fsync: false });
        files.push(file);
      }
      Atomics.store(stop, 0, 1);
      for (const result of await results) expect(result.errors).toEqual([]);
      await Promise.all(workers.map((w) => w.terminate()));
      checkInvariants(cache);
      for (const file of files) {
        const { cache: loaded } = await loadSnapshot(file);
        checkInvariants(loaded);
        expect(loaded.size).toBeGreaterThan(0);
        for (const [key, value] of loaded.entries()) expect([key, checkValue(String(key), String(value))]).toEqual([key, undefined]);
      }
    } finally {
      Atomics.store(stop, 0, 1);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIEVE: getEntry and getEntryBytes read without the lock once shared, with the version, metadata and TTL the lock gives', () => {
    const cache = new SlabLruCache({ maxKeys: 3, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 100, policy: 'sieve', versions: true });
    cache.set('x', 'ex', { meta: 'text/plain', ttl: 60_000 });
    cache.set('y', 'why');
    cache.set('z', 'zed');
    const locked = { x: cache.getEntry('x', { peek: true })!, y: cache.getEntryBytes('y', { peek: true })! };
    void cache.handle; // shared from here: reads go without the lock
    const before = cache.stats();

    const x = cache.getEntry('x')!;
    const y = cache.getEntryBytes('y', { peek: true })!;
    expect([x.value, x.version, x.meta]).toEqual(['ex', locked.x.version, 'text/plain']);
    expect(x.remainingTTL).toBeGreaterThan(0);
    expect(x.remainingTTL).toBeLessThanOrEqual(locked.x.remainingTTL);
    expect(y).toEqual({ value: Buffer.from('why'), version: locked.y.version, meta: undefined, remainingTTL: Infinity });
    expect(cache.getEntry('absent')).toBeUndefined();

    const after = cache.stats();
    expect(after.lock_free_reads - before.lock_free_reads).toBe(3);
    expect([after.get_hits - before.get_hits, after.get_misses - before.get_misses, after.cmd_peek - before.cmd_peek]).toEqual([1, 1, 1]);
    // The get marked x visited, the peek left y unvisited: the hand passes x and evicts y.
    cache.set('w', 'new');
    expect([cache.has('x'), cache.has('y'), cache.has('z'), cache.has('w')]).toEqual([true, false, true, true]);
    checkInvariants(cache);
  });

  it('a value written in one thread is read in another', async () => {
    const cache = new SlabLruCache({ maxKeys: 100, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000 });
    cache.set('from-main', 'hello from the main thread');
    const worker = startTsWorker(path.join(__dirname, 'support/echo-worker.ts'), { handle: cache.handle });
    const reply = await firstMessage<{ seen: string | undefined }>(worker);
    await worker.terminate();
    expect(reply.seen).toBe('hello from the main thread');
    expect(cache.get('from-worker')).toBe('hello from the worker');
    checkInvariants(cache);
  });

  it('a lock left held (a thread died mid-operation) fails other callers after the timeout instead of hanging', () => {
    const cache = new SlabLruCache({ maxKeys: 10, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 100, lockTimeoutMs: 200 });
    const attached = SlabLruCache.attach(cache.handle);
    // Simulate a holder that never releases: take the lock word as another thread would.
    const lockWord = new Int32Array(cache.handle.meta, 0, 1);
    Atomics.store(lockWord, 0, 1);
    expect(() => attached.get('k')).toThrow(LockTimeoutError);
    expect(() => attached.get('k')).toThrow(/not released within 200 ms/);
    Atomics.store(lockWord, 0, 0);
    attached.set('k', 'v');
    expect(cache.get('k')).toBe('v');
  });
});
