/**
 * The wrk preload script writes exactly the keys of its range, split across
 * wrk threads, and the driver ends wrk as soon as every thread is done (wrk
 * itself would sleep for the whole -d bound). Also checks the timed GET script
 * against the same server: all hits, no failures, counts that add up.
 * Needs Debian's wrk (apt-get install -y wrk); real baseline server on an
 * OS-assigned port.
 */

import { preload } from '../src/preload.js';
import { runWrk } from '../src/wrk.js';
import { startBaseline, type TestServer } from './support/baseline.js';

let server: TestServer;

beforeAll(async () => {
  server = await startBaseline();
});

afterAll(async () => {
  await server?.stop();
});

async function status(key: string): Promise<number> {
  return (await fetch(`${server.url}/get?key=${key}`)).status;
}

test('preload writes every key of [from, to) and nothing else, well before its bound', async () => {
  const result = await preload({ url: server.url, from: 100, to: 400, valueBytes: 32, threads: 2, connections: 8, timeoutSeconds: 60 });
  // wrk ran with -d60s: it ended because the driver stopped it once all keys were written.
  expect(result.wrk.durationSeconds).toBeLessThan(60);
  expect(result.keys).toBe(300);
  expect(result.failures).toBe(0);
  expect(result.verified.found).toBe(result.verified.sampled);
  const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => status(`key-${100 + i}`)));
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  expect(await status('key-99')).toBe(404);
  expect(await status('key-400')).toBe(404);
  const body = (await (await fetch(`${server.url}/get?key=key-100`)).json()) as { value: string };
  expect(body.value).toHaveLength(32);
}, 90_000);

test('a timed GET run over a preloaded pool only hits', async () => {
  await preload({ url: server.url, to: 50, valueBytes: 16, threads: 1, connections: 2 });
  const result = await runWrk({
    url: server.url,
    mode: 'get',
    threads: 1,
    connections: 4,
    durationSeconds: 1,
    scriptArgs: { pool: 50, value: 16 },
  });
  expect(result.requests).toBeGreaterThan(0);
  expect(result.status2xx).toBe(result.requests);
  expect(result.status404 + result.statusOther).toBe(0);
});

test('a timed GET run counts misses as 404s, apart from failures', async () => {
  const result = await runWrk({
    url: server.url,
    mode: 'get',
    threads: 1,
    connections: 4,
    durationSeconds: 1,
    scriptArgs: { pool: 100, value: 32, prefix: 'absent-' },
  });
  // No key named absent-* was ever written: every GET is a 404 miss, none a failure.
  expect(result.requests).toBeGreaterThan(0);
  expect(result.status404).toBe(result.requests);
  expect(result.statusOther).toBe(0);
  expect(result.latencyUs.p50).toBeGreaterThan(0);
  expect(result.latencyUs.p99).toBeGreaterThanOrEqual(result.latencyUs.p50);
});
