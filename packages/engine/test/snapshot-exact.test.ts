/**
 * Issue 12: a snapshot holds exactly the cache's state at one instant (when
 * the save's walk reaches the head), however the cache changes between the
 * save's steps — no deleted, evicted, expired or cleared key comes back, an
 * overwritten key comes back with its last value only, superseded records
 * take no room at load — and a load into the same options holds every entry.
 *
 * Model-based and driven by step counts, not timers: the save calls
 * `onProgress` after every block, between two steps of its walk, and that is
 * where each seed's random operations run. No operation runs after the walk is
 * done, so the cache as it stands when the save resolves is the model of the
 * snapshot's instant; the loaded cache must equal it, entry for entry, in
 * order, with values, TTLs, versions, metadata, SIEVE's visited bits and hand.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';

import { SlabLruCache, SnapshotError, checkInvariants, loadSnapshot, saveSnapshot, type PolicyName } from '@slabcache/engine';
import { F_VISITED } from '../src/chunk';
import { META_HAND, META_LIST_TAIL, NIL, SENTINEL_REF } from '../src/layout';
import { makeRng, randInt } from './support/rng';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snapshot-exact-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A clock the test moves by hand (TTLs, expiry), so nothing depends on real time. */
let now = 1_800_000_000_000;
const realNow = Date.now;
beforeEach(() => {
  Date.now = () => now;
});
afterEach(() => {
  Date.now = realNow;
});

const OPTIONS = { maxKeys: 40, maxBytes: 14 * 4096, pageBytes: 4096, maxValueBytes: 1500, maxKeyBytes: 32, versions: true };

/** Everything a snapshot must keep about each live entry, oldest first, plus SIEVE's hand. */
function stateOf(cache: SlabLruCache): unknown {
  const { chunks, views } = SlabLruCache.unsafeInternals(cache);
  const entries: unknown[] = [];
  const visitedByKey = new Map<string, boolean>();
  for (let ref = views.metaU32[META_LIST_TAIL]!; ref !== NIL; ref = chunks.prev(ref)) {
    if (ref === SENTINEL_REF) continue;
    const start = chunks.keyStart(ref);
    visitedByKey.set(views.arenaBytes.toString('latin1', start, start + chunks.keyLen(ref)), (chunks.flags(ref) & F_VISITED) !== 0);
  }
  for (const [key, value] of cache.rentries()) {
    const entry = cache.getEntryBytes(key, { peek: true })!;
    const id = Buffer.from(typeof key === 'string' ? Buffer.from(key) : key).toString('latin1');
    entries.push({ key, value, ttl: entry.remainingTTL, version: entry.version, meta: entry.meta, visited: visitedByKey.get(id) });
  }
  const hand = views.metaU32[META_HAND]!;
  let handKey: string | undefined;
  if (hand !== NIL && !(chunks.flags(hand) & 8 && chunks.expiresAt(hand) <= now)) {
    const start = chunks.keyStart(hand);
    handKey = views.arenaBytes.toString('latin1', start, start + chunks.keyLen(hand));
  }
  return { entries, hand: handKey };
}

/** One random operation of any kind a user can do, on a small key space (so it hits written entries). */
function randomOperation(cache: SlabLruCache, rng: () => number): void {
  const key = rng() < 0.1 ? Buffer.from([0xfe, randInt(rng, 40)]) : `k${randInt(rng, 60)}`;
  const r = rng();
  if (r < 0.4) {
    // Small and large values: other size classes, page moves, evictions by keys and by bytes.
    const size = rng() < 0.85 ? randInt(rng, 120) : 200 + randInt(rng, 1290);
    const value = rng() < 0.5 ? 'x'.repeat(size) + randInt(rng, 1000) : Buffer.alloc(size, randInt(rng, 256));
    const ttl = rng() < 0.2 ? 1 + randInt(rng, 40) : 0;
    cache.set(key, value, { ttl, ...(rng() < 0.2 ? { meta: `type/${randInt(rng, 9)}` } : {}) });
  } else if (r < 0.6) cache.get(key);
  else if (r < 0.68) cache.peek(key);
  else if (r < 0.8) cache.delete(key);
  else if (r < 0.88) {
    const current = cache.getEntry(key, { peek: true });
    cache.setIf(key, `cas${randInt(rng, 100)}`, rng() < 0.7 ? (current?.version ?? 0) : 12345);
  } else if (r < 0.97) now += randInt(rng, 15);
  else if (r < 0.985) cache.purgeStale();
  else cache.clear();
}

/** Saves while changing, loads, compares; returns how many steps of the save saw changes between them. */
async function saveWhileChanging(seed: number, policy: PolicyName): Promise<number> {
  const rng = makeRng(seed);
  const cache = new SlabLruCache({ ...OPTIONS, policy });
  for (let i = 0; i < 80; i++) randomOperation(cache, rng);
  const file = path.join(dir, `s${seed}-${policy}.snap`);
  let steps = 0;
  const saved = await saveSnapshot(cache, file, {
    fsync: false,
    chunkEntries: 1 + randInt(rng, 4),
    onProgress: ({ done }) => {
      if (done) return;
      steps++;
      const count = randInt(rng, 6);
      for (let i = 0; i < count; i++) randomOperation(cache, rng);
    },
  });
  checkInvariants(cache);
  expect([seed, saved.entries]).toEqual([seed, cache.size]);

  const { cache: loaded, stats } = await loadSnapshot(file);
  checkInvariants(loaded);
  expect([seed, policy, stateOf(loaded)]).toEqual([seed, policy, stateOf(cache)]);
  expect(stats.dropped).toBe(0);
  // Expired entries still held by the source are dropped at load; everything else is there.
  const live = [...cache.keys()].length;
  expect(loaded.size).toBe(live);
  return steps;
}

describe('exact snapshots', () => {
  it.each(['lru', 'sieve'] as const)('%s: hundreds of seeded interleavings of changes between the save’s steps', async (policy) => {
    let changedSaves = 0;
    for (let seed = 1; seed <= 150; seed++) if ((await saveWhileChanging(seed, policy)) >= 3) changedSaves++;
    // Most saves really were interleaved with changes (a cache emptied by a clear saves in one step).
    expect(changedSaves).toBeGreaterThan(100);
  }, 120_000);

  it('a key deleted after its record was written stays deleted; untouched live entries all come back', async () => {
    // Room for everything: no eviction can hide a resurrected key.
    const cache = new SlabLruCache({ maxKeys: 5000, maxBytes: 4 << 20, pageBytes: 16384, maxValueBytes: 100 });
    for (let i = 0; i < 500; i++) cache.set(`k${i}`, `v${i}`);
    let step = 0;
    await saveSnapshot(cache, path.join(dir, 'deletes.snap'), {
      fsync: false,
      chunkEntries: 50,
      onProgress: ({ done }) => {
        if (done) return;
        // Each step deletes keys the walk has already written, and churns new ones.
        if (step++ < 5) for (let i = step * 20; i < step * 20 + 10; i++) cache.delete(`k${i}`);
        for (let i = 0; i < 30; i++) cache.set(`new${step}-${i}`, 'n');
      },
    });
    const { cache: loaded, stats } = await loadSnapshot(path.join(dir, 'deletes.snap'));
    expect(cache.stats().evictions).toBe(0);
    expect(stats.dropped).toBe(0);
    for (let s = 1; s <= 5; s++) for (let i = s * 20; i < s * 20 + 10; i++) expect(loaded.has(`k${i}`)).toBe(false);
    expect([...loaded.entries()]).toEqual([...cache.entries()]);
  });

  it('superseded records take no room: a full cache rewritten during its save loads whole, with no evictions', async () => {
    const cache = new SlabLruCache({ maxKeys: 300, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 200 });
    for (let i = 0; i < 300; i++) cache.set(`k${i}`, 'a'.repeat(50));
    let round = 0;
    const saved = await saveSnapshot(cache, path.join(dir, 'rewrites.snap'), {
      fsync: false,
      chunkEntries: 10,
      onProgress: ({ done }) => {
        if (done) return;
        round++;
        // Rewrite entries just written (LRU: written again later) and evict old ones. Fewer than a
        // step's worth: a walk outpaced by the changes behind it would never reach the head.
        for (let i = 0; i < 4; i++) cache.set(`k${(round * 7 + i) % 300}`, 'b'.repeat(50));
        cache.set(`fresh${round}`, 'c');
      },
    });
    expect(saved.records).toBeGreaterThan(cache.size + 100);
    const { cache: loaded, stats } = await loadSnapshot(path.join(dir, 'rewrites.snap'));
    expect(stats.dropped).toBe(0);
    expect(loaded.size).toBe(cache.size);
    expect([...loaded.entries()]).toEqual([...cache.entries()]);
  });

  it('fails with ERR_SNAPSHOT_OVERRUN, leaving no file, when more changes than its log holds land between two steps', async () => {
    const cache = new SlabLruCache({ maxKeys: 8000, maxBytes: 32 << 20, maxKeyBytes: 1000, maxValueBytes: 10 });
    const longKey = (i: number): string => `${i}:`.padEnd(1000, 'k');
    for (let i = 0; i < 6000; i++) cache.set(longKey(i), 'v');
    const file = path.join(dir, 'overrun.snap');
    let first = true;
    const save = saveSnapshot(cache, file, {
      fsync: false,
      chunkEntries: 1,
      onProgress: () => {
        // About 6 MB of tombstones between two steps; the log holds 4 MiB.
        if (first) for (let i = 0; i < 6000; i++) cache.delete(longKey(i));
        first = false;
      },
    });
    await expect(save).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_OVERRUN' });
    await expect(save).rejects.toBeInstanceOf(SnapshotError);
    expect(readdirSync(dir).filter((name) => name.startsWith('overrun'))).toEqual([]);
    // The walk ended cleanly: the next save works.
    cache.set('after', 'v');
    await expect(saveSnapshot(cache, file, { fsync: false })).resolves.toMatchObject({ entries: 1 });
    checkInvariants(cache);
  });

  it('still loads version 1 files (the last record of each key wins)', async () => {
    const file = path.join(dir, 'v1.snap');
    writeFileSync(file, encodeVersion1File([
      ['a', 'old', 0],
      ['b', 'kept', 0],
      ['a', 'new', 0],
      ['c', 'expiring', now + 60_000],
    ]));
    const { cache, stats } = await loadSnapshot(file);
    expect([...cache.entries()]).toEqual([
      ['c', Buffer.from('expiring')],
      ['a', Buffer.from('new')],
      ['b', Buffer.from('kept')],
    ]);
    expect(cache.get('a')).toBe('new');
    expect(cache.getRemainingTTL('c')).toBe(60_000);
    expect(stats).toMatchObject({ records: 4, entries: 3, dropped: 0 });
  });
});

/** A version 1 snapshot, byte by byte as the first engine wrote it (see format.ts). */
function encodeVersion1File(records: [string, string, number][]): Buffer {
  const options = Buffer.from(JSON.stringify({ maxKeys: 100, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 100 }));
  const header = Buffer.alloc(28 + options.length + 4);
  header.write('SLABSNAP', 0, 'latin1');
  header.writeUInt32LE(1, 8);
  header.writeUInt32LE(header.length, 12);
  header.writeDoubleLE(now, 16);
  header.writeUInt32LE(options.length, 24);
  options.copy(header, 28);
  header.writeUInt32LE(crc32(header.subarray(0, header.length - 4)), header.length - 4);
  const payload = Buffer.concat(
    records.map(([key, value, expiresAt]) => {
      const record = Buffer.alloc(7 + (expiresAt ? 8 : 0) + key.length + value.length);
      record[0] = expiresAt ? 1 : 0;
      record.writeUInt16LE(key.length, 1);
      record.writeUInt32LE(value.length, 3);
      let at = 7;
      if (expiresAt) at = record.writeDoubleLE(expiresAt, at);
      record.write(key + value, at, 'latin1');
      return record;
    }),
  );
  const block = Buffer.alloc(16 + payload.length);
  block.writeUInt32LE(0x4b4c4253, 0);
  block.writeUInt32LE(payload.length, 4);
  block.writeUInt32LE(records.length, 8);
  payload.copy(block, 16);
  block.writeUInt32LE(crc32(payload, crc32(block.subarray(0, 12))), 12);
  const trailer = Buffer.alloc(56);
  trailer.writeUInt32LE(0x444e4553, 0);
  trailer.writeUInt32LE(56, 4);
  trailer.writeDoubleLE(records.length, 8);
  trailer.writeDoubleLE(1, 16);
  trailer.writeDoubleLE(payload.length, 24);
  trailer.writeDoubleLE(now, 32);
  trailer.writeUInt32LE(Math.max(...records.map((r) => r[0].length)), 40);
  trailer.writeUInt32LE(Math.max(...records.map((r) => r[1].length)), 44);
  trailer.writeUInt32LE(crc32(block.subarray(0, 16)), 48);
  trailer.writeUInt32LE(crc32(trailer.subarray(0, 52)), 52);
  return Buffer.concat([header, block, trailer]);
}
