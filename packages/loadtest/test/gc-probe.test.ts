/**
 * The GC probe (src/gc-probe.mjs), loaded into a real Node process with
 * --import as the drivers load it into the servers: it writes GC totals, long
 * pauses and memory usage to LOADTEST_GC_FILE, and does nothing without it.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
