/**
 * Warm restart through the real CLI: SNAPSHOT_PATH with THREADS=2. A value put
 * through one process is served again by the next one, /stats shows the
 * keeper's last save and load in every thread, and a bad path is refused at
 * startup with a clear message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnCli } from './support/cli';
import { request } from './support/http';

jest.setTimeout(60_000);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'slabcache-snap-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function statsOf(port: number): Promise<{ snapshot: Record<string, unknown> | null }> {
  const stats = await request(`http://127.0.0.1:${port}`, 'GET', '/stats');
  return JSON.parse(stats.body.toString());
}

it('a value put before SIGTERM is served after the restart (THREADS=2)', async () => {
  const env = { THREADS: '2', SNAPSHOT_PATH: path.join(dir, 'cache.snap') };
  const first = spawnCli([], env);
  try {
    const port = await first.listening();
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const body = JSON.stringify({ key: `warm${i}`, value: `survives ${i} ✓` });
      const put = await request(base, 'POST', '/put', { body, headers: { 'content-type': 'application/json' } });
      expect(put.status).toBe(200);
    }
    expect((await statsOf(port)).snapshot).toMatchObject({ path: env.SNAPSHOT_PATH });
  } finally {
    first.child.kill('SIGTERM');
  }
  expect(await first.exited()).toBe(0);

  const second = spawnCli([], env);
  const port2 = await second.listening();
  try {
    for (let i = 0; i < 50; i++) {
      const got = await request(`http://127.0.0.1:${port2}`, 'GET', `/get?key=warm${i}`);
      expect([got.status, JSON.parse(got.body.toString())]).toEqual([200, { key: `warm${i}`, value: `survives ${i} ✓` }]);
    }
    // Each thread learned the keeper's state from the main thread.
    for (let i = 0; i < 6; i++) {
      expect((await statsOf(port2)).snapshot).toMatchObject({ last_load: expect.objectContaining({ entries: 50 }) });
    }
  } finally {
    second.child.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
  }
});

it('refuses a snapshot path in a missing directory at startup (exit 2, clear message)', async () => {
  const cli = spawnCli([], { SNAPSHOT_PATH: path.join(dir, 'missing', 'cache.snap') });
  expect(await cli.exited()).toBe(2);
  expect(cli.stderr() + JSON.stringify(cli.logs)).toMatch(/missing/);
});
