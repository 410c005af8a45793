/**
 * The GC probe (src/gc-probe.mjs), loaded into a real Node process with
 * --import as the drivers load it into the servers: it writes GC totals, long
 * pauses and memory usage to LOADTEST_GC_FILE, and does nothing without it.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readGcSnapshots } from '../src/server-process.js';

const probe = join(__dirname, '..', 'src', 'gc-probe.mjs');
// Allocates enough short-lived garbage for several scavenges, then exits.
const ALLOCATE = 'let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 1000) keep = []; }';

test('with LOADTEST_GC_FILE the probe records GCs and memory at exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gc-probe-test-'));
  try {
    const file = join(dir, 'gc.json');
    const run = spawnSync(process.execPath, ['--import', probe, '-e', ALLOCATE], {
      env: { ...process.env, LOADTEST_GC_FILE: file },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(readFileSync(file, 'utf8'));
    expect(snapshot.pid).toBeGreaterThan(0);
    expect(snapshot.totals.count).toBeGreaterThan(0);
    expect(snapshot.totals.totalMs).toBeGreaterThan(0);
    expect(snapshot.totals.byKind.minor.count).toBeGreaterThan(0);
    expect(Array.isArray(snapshot.longPauses)).toBe(true);
    expect(snapshot.memory.heapUsed).toBeGreaterThan(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without LOADTEST_GC_FILE the probe stays silent and the process runs as usual', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gc-probe-test-'));
  try {
    const env = { ...process.env };
    delete env.LOADTEST_GC_FILE;
    const run = spawnSync(process.execPath, ['--import', probe, '-e', `${ALLOCATE}; console.log('done')`], {
      env,
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('done');
    expect(run.stderr).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker thread gets its own probe file, and readGcSnapshots adds the threads up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gc-probe-test-'));
  try {
    const file = join(dir, 'gc.json');
    const worker = join(dir, 'worker.mjs');
    writeFileSync(worker, ALLOCATE);
    const run = spawnSync(
      process.execPath,
      ['--import', probe, '-e', `const { Worker } = require('node:worker_threads'); new Worker(${JSON.stringify(worker)});`],
      { env: { ...process.env, LOADTEST_GC_FILE: file }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(0);
    const main = JSON.parse(readFileSync(file, 'utf8'));
    const thread = JSON.parse(readFileSync(`${file}.thread-1`, 'utf8'));
    expect(thread.threadId).toBe(1);
    expect(thread.totals.count).toBeGreaterThan(0);
    const sum = readGcSnapshots(dir);
    expect(sum?.threads).toBe(2);
    expect(sum?.totals.count).toBe(main.totals.count + thread.totals.count);
    expect(sum?.memory.heapUsed).toBe(main.memory.heapUsed + thread.memory.heapUsed);
    expect(sum?.memory.arrayBuffers).toBe(main.memory.arrayBuffers);
    expect(sum?.writtenAtMs).toBe(Math.min(main.writtenAtMs, thread.writtenAtMs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
