/**
 * Issue 19: a snapshot holds every key and value, so its file is readable by
 * its owner only (mode 0600), whatever the process's umask, and a file left
 * readable by others (by an older version, or a chmod) is replaced by a 0600
 * one at the next save. Checked through the server: a real save on stop.
 */

import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createServer } from '../src/index';

import { request } from './support/http';
import { TEST_LIMITS } from './support/server';

const modeOf = (file: string): number => statSync(file).mode & 0o777;

it('writes snapshots 0600 even under umask 000, and tightens a 0644 file on the next save', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slabcache-snapshot-mode-'));
  const file = path.join(dir, 'cache.snap');
  const options = { ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent' as const, snapshotPath: file };
  const umask = process.umask(0o000);
  try {
    const first = createServer(options);
    const port = await first.start();
    expect((await request(`http://127.0.0.1:${port}`, 'PUT', '/kv/secret', { body: 'value' })).status).toBe(200);
    await first.stop(); // saves
    expect(readdirSync(dir)).toEqual(['cache.snap']);
    expect(modeOf(file).toString(8)).toBe('600');

    chmodSync(file, 0o644);
    const second = createServer(options); // loads it
    await second.start();
    expect(second.cache.has('secret')).toBe(true);
    await second.stop(); // saves over it
    expect(modeOf(file).toString(8)).toBe('600');
  } finally {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000); // a safety bound, not a verdict
