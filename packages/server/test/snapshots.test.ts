/**
 * The server's snapshot keeper (src/snapshots.ts) with real files in a
 * temporary directory and a real engine cache: the startup path check, load
 * (missing, good, refused), periodic saves, failures logged and retried, the
 * final save on stop, and the status /stats shows.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SlabLruCache, saveSnapshot } from '@slabcache/engine';

import { checkSnapshotPath, SnapshotKeeper, SnapshotPathError } from '../src/snapshots';

import { capturingLogger } from './support/logs';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'server-snapshots-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
const freshDir = (): string => {
  const dir = path.join(root, `d${dirCount++}`);
  mkdirSync(dir);
  return dir;
};
const newCache = (): SlabLruCache => new SlabLruCache({ maxKeys: 10_000, maxBytes: 8 << 20 });

async function eventually(what: string, test: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('checkSnapshotPath', () => {
  it('accepts a file (existing or not) in a writable directory and makes it absolute', () => {
    const dir = freshDir();
    const relative = path.relative(process.cwd(), path.join(dir, 'cache.snap'));
    expect(checkSnapshotPath(relative)).toBe(path.join(dir, 'cache.snap'));
    writeFileSync(path.join(dir, 'cache.snap'), 'anything');
    expect(checkSnapshotPath(path.join(dir, 'cache.snap'))).toBe(path.join(dir, 'cache.snap'));
    expect(readdirSync(dir)).toEqual(['cache.snap']); // the write probe is gone
  });

  it('refuses a directory, a missing directory, a parent that is a file, an unwritable place, an empty path', () => {
    const dir = freshDir();
    expect(() => checkSnapshotPath(dir)).toThrow(SnapshotPathError);
    expect(() => checkSnapshotPath(dir)).toThrow(/is a directory; name a file in it/);
    expect(() => checkSnapshotPath(path.join(dir, 'missing', 'cache.snap'))).toThrow(/does not exist/);
    writeFileSync(path.join(dir, 'plain-file'), '');
    expect(() => checkSnapshotPath(path.join(dir, 'plain-file', 'cache.snap'))).toThrow(/is not a directory/);
    // /proc/self is a directory nobody can create files in, not even root (tests may run as root).
    expect(() => checkSnapshotPath('/proc/self/cache.snap')).toThrow(/cannot write in \/proc\/self/);
    expect(() => checkSnapshotPath('  ')).toThrow(/empty/);
  });

  it('removes temporary files of dead saves, keeps those of running processes', () => {
    const dir = freshDir();
    const dead = path.join(dir, 'cache.snap.tmp-2147483646-1');
    const mine = path.join(dir, `cache.snap.tmp-${process.pid}-1`);
    const mineFromBefore = path.join(dir, `cache.snap.tmp-${process.pid}-2`);
    const runningButIdle = path.join(dir, `cache.snap.tmp-${process.ppid}-1`);
    const running = path.join(dir, `cache.snap.tmp-${process.ppid}-2`);
    const other = path.join(dir, 'other.snap.tmp-2147483646-1');
    for (const file of [dead, mine, mineFromBefore, runningButIdle, running, other]) writeFileSync(file, 'partial');
    // Same pid as this process but written before it started (a container's pid 1 on its previous run).
    const beforeThisProcess = new Date(Date.now() - process.uptime() * 1000 - 60_000);
    utimesSync(mineFromBefore, beforeThisProcess, beforeThisProcess);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(runningButIdle, twoHoursAgo, twoHoursAgo);
    checkSnapshotPath(path.join(dir, 'cache.snap'));
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(mineFromBefore)).toBe(false);
    expect(existsSync(runningButIdle)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(running)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });
});

describe('SnapshotKeeper', () => {
  it('starts empty when there is no snapshot yet, and says so', async () => {
    const file = checkSnapshotPath(path.join(freshDir(), 'cache.snap'));
    const { logger, lines } = capturingLogger();
    const keeper = new SnapshotKeeper({ cache: newCache(), path: file, intervalSeconds: 0, logger });
    const load = await keeper.load();
    expect(load).toMatchObject({ result: 'missing', entries: 0 });
    expect(keeper.status().last_load).toEqual(load);
    expect(lines.map((l) => l['msg'])).toContain('no snapshot yet: starting empty');
  });

  it('saves on stop and loads it back on the next start, logging entries and duration', async () => {
    const file = checkSnapshotPath(path.join(freshDir(), 'cache.snap'));
    const first = newCache();
    const { logger, lines } = capturingLogger();
    const keeper = new SnapshotKeeper({ cache: first, path: file, intervalSeconds: 0, logger });
    await keeper.load();
    for (let i = 0; i < 500; i++) first.set(`k${i}`, `v${i}`);
    first.set('bytes', Buffer.from([0, 1, 254, 255]));
    expect(await keeper.stop()).toBe(true);
    const status = keeper.status();
    expect(status.saves_ok).toBe(1);
    expect(status.last_save).toMatchObject({ result: 'ok', entries: 501 });
    expect(status.last_save!.bytes).toBeGreaterThan(501 * 5);
    expect(lines.find((l) => l['msg'] === 'snapshot saved')).toMatchObject({ entries: 501, snapshot: file });

    const second = newCache();
    const restarted = new SnapshotKeeper({ cache: second, path: file, intervalSeconds: 0, logger });
    expect(await restarted.load()).toMatchObject({ result: 'ok', entries: 501 });
    expect([...second.keys()]).toEqual([...first.keys()]);
    expect(second.getBytes('bytes')).toEqual(Buffer.from([0, 1, 254, 255]));
    const loaded = lines.find((l) => l['msg'] === 'snapshot loaded');
    expect(loaded).toMatchObject({ entries: 501, records: 501, expired: 0 });
    expect(typeof loaded!['ms']).toBe('number');
  });

  it('refuses a damaged snapshot at startup: moves it aside, starts empty, does not throw', async () => {
    const dir = freshDir();
    const file = checkSnapshotPath(path.join(dir, 'cache.snap'));
    const source = newCache();
    source.set('a', '1');
    await saveSnapshot(source, file);
    writeFileSync(file, 'SLABSNAP but then nothing sensible');
    const cache = newCache();
    const { logger, lines } = capturingLogger();
    const keeper = new SnapshotKeeper({ cache, path: file, intervalSeconds: 0, logger });
    const load = await keeper.load();
    expect(load.result).toBe('rejected');
    expect(load.error).toMatch(/cache\.snap/);
    expect(cache.size).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith('cache.snap.rejected-'))).toHaveLength(1);
    expect(lines.find((l) => l['msg'] === 'snapshot refused: starting empty')).toBeDefined();
  });

  it('saves every interval; a failed save is logged and retried until it works', async () => {
    const dir = freshDir();
    const file = checkSnapshotPath(path.join(dir, 'cache.snap'));
    const cache = newCache();
    cache.set('x', '1');
    const { logger, lines } = capturingLogger();
    const keeper = new SnapshotKeeper({ cache, path: file, intervalSeconds: 0.05, logger, retryDelayMs: 10 });
    keeper.start();
    await eventually('two periodic saves', () => keeper.status().saves_ok >= 2);

    rmSync(dir, { recursive: true }); // the volume went away: saves must fail, not crash
    const okBefore = keeper.status().saves_ok;
    await eventually('failed saves', () => keeper.status().consecutive_failures >= 2);
    const failing = keeper.status();
    expect(failing.last_save).toMatchObject({ result: 'failed' });
    expect(failing.last_save!.error).toMatch(/ENOENT/);
    expect(lines.some((l) => l['msg'] === 'snapshot save failed; the previous snapshot is kept')).toBe(true);

    mkdirSync(dir); // back again: the retries succeed
    cache.set('y', '2');
    await eventually('a save after the failures', () => keeper.status().saves_ok > okBefore && keeper.status().consecutive_failures === 0);
    await keeper.stop();
    const restored = newCache();
    await new SnapshotKeeper({ cache: restored, path: file, intervalSeconds: 0, logger }).load();
    expect([...restored.entries()]).toEqual([
      ['y', '2'],
      ['x', '1'],
    ]);
  }, 60_000);

  it('the final save on stop retries, then gives up without throwing', async () => {
    const dir = freshDir();
    const file = checkSnapshotPath(path.join(dir, 'cache.snap'));
    rmSync(dir, { recursive: true });
    const { logger, lines } = capturingLogger();
    const keeper = new SnapshotKeeper({ cache: newCache(), path: file, intervalSeconds: 0, logger, retryDelayMs: 1, shutdownAttempts: 3 });
    expect(await keeper.stop()).toBe(false);
    expect(keeper.status()).toMatchObject({ saves_failed: 3, consecutive_failures: 3, saves_ok: 0 });
    expect(lines.some((l) => l['msg'] === 'final snapshot failed: the previous snapshot (if any) is kept')).toBe(true);
  });

  it('runs one save at a time: a save asked for during another joins it', async () => {
    const file = checkSnapshotPath(path.join(freshDir(), 'cache.snap'));
    const cache = newCache();
    for (let i = 0; i < 2000; i++) cache.set(`k${i}`, 'v');
    const seen: string[] = [];
    const keeper = new SnapshotKeeper({
      cache,
      path: file,
      intervalSeconds: 0,
      logger: capturingLogger().logger,
      onStatus: (status) => seen.push(status.saving ? (status.save_progress?.walk_done ? 'walk done' : 'saving') : 'idle'),
    });
    const first = keeper.saveNow();
    expect(keeper.status().saving).toBe(true);
    const second = keeper.saveNow();
    expect(second).toBe(first);
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(keeper.status()).toMatchObject({ saves_ok: 1, saving: false });
    // Listeners (other threads' /stats) hear of each change: the save's progress block by block, then its end.
    expect(seen[0]).toBe('saving');
    expect(seen.slice(-2)).toEqual(['walk done', 'idle']);
    expect(seen.filter((s) => s === 'idle')).toHaveLength(1);
  });
});
