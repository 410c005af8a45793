/**
 * Crash safety: a process killed with SIGKILL in the middle of a save leaves
 * the previous snapshot in place and loadable (the new one is written to a
 * temporary file and renamed over the old one only when complete), and a save
 * that completes replaces it. The saver is a real child process
 * (snapshot-crash.child.ts, run with tsx).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SlabLruCache, checkInvariants, loadSnapshot, saveSnapshot } from '@slabcache/engine';

const packageDir = path.join(__dirname, '..');
const childScript = path.join(__dirname, 'snapshot-crash.child.ts');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snapshot-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a complete "generation 1" snapshot of 1,001 entries at `file`. */
async function saveGenerationOne(file: string): Promise<void> {
  const cache = new SlabLruCache({ maxKeys: 400_000, maxBytes: 128 << 20 });
  for (let i = 0; i < 1000; i++) cache.set(`k${i}`, `generation 1 value of entry ${i}`);
  cache.set('generation', '1');
  await saveSnapshot(cache, file);
}

function startSaver(file: string, entries: number, chunkEntries: number): { child: ChildProcess; output: () => string; exited: Promise<NodeJS.Signals | number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, file, String(entries), String(chunkEntries)], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, output: () => output, exited };
}

/** Resolves once `test()` holds, checking every few ms; rejects after `ms`. */
async function waitFor(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

const temporaryFiles = (file: string, pid: number): string[] =>
  readdirSync(dir).filter((name) => name.startsWith(`${path.basename(file)}.tmp-${pid}-`));

describe('snapshot crash safety', () => {
  it.each([
    ['just after the temporary file appears', 1],
    ['with megabytes of the new snapshot written', 2 << 20],
  ])('SIGKILL during a save, %s, leaves the previous snapshot loadable', async (_when, writtenBytes) => {
    const file = path.join(dir, `kill-${writtenBytes}.snap`);
    await saveGenerationOne(file);
    const saver = startSaver(file, 300_000, 16);
    const pid = saver.child.pid!;
    const written = (): number => {
      const [temporary] = temporaryFiles(file, pid);
      return temporary === undefined ? -1 : statSync(path.join(dir, temporary), { throwIfNoEntry: false })?.size ?? -1;
    };
    await waitFor('the save to start writing', () => written() >= writtenBytes || saver.output().includes('saved'));
    saver.child.kill('SIGKILL');
    expect(await saver.exited).toBe('SIGKILL');
    expect(saver.output()).toContain('saving');
    expect(saver.output()).not.toContain('saved'); // killed mid-save, not after it
    expect(temporaryFiles(file, pid)).toHaveLength(1); // the unfinished new snapshot, left beside the old one

    const { cache, stats } = await loadSnapshot(file);
    checkInvariants(cache);
    expect(cache.get('generation')).toBe('1');
    expect(stats.entries).toBe(1001);
    expect(cache.get('k999')).toBe('generation 1 value of entry 999');
  }, 120_000);

  it('a save that completes replaces the previous snapshot', async () => {
    const file = path.join(dir, 'complete.snap');
    await saveGenerationOne(file);
    const saver = startSaver(file, 5000, 4096);
    expect(await saver.exited).toBe(0);
    expect(saver.output()).toContain('saved');
    const { cache } = await loadSnapshot(file);
    expect(cache.get('generation')).toBe('2');
    expect(cache.size).toBe(5001);
    expect(temporaryFiles(file, saver.child.pid!)).toEqual([]);
  }, 120_000);
});
