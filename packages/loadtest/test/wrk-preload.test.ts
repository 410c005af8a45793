/**
 * The wrk preload script writes exactly the keys of its range, split across
 * wrk threads, and the driver ends wrk as soon as every thread is done (wrk
 * itself would sleep for the whole -d bound). Also checks the timed GET script
 * against the same server: all hits, no failures, counts that add up, and
 * that a preload reports its progress (WRK_PROGRESS lines, src/progress.ts).
 * Needs Debian's wrk (apt-get install -y wrk); real baseline server on an
 * OS-assigned port.
 */

import { preload } from '../src/preload.js';
import { Progress, type ProgressOutput, type Ticker } from '../src/progress.js';
import { runWrk } from '../src/wrk.js';
import { startBaseline, type TestServer } from './support/baseline.js';

let server: TestServer;

beforeAll(async () => {
  server = await startBaseline();
}, 60_000); // a safety bound: starting Node and Express takes seconds on a loaded machine

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

test('a preload reports its progress from every wrk thread while it runs', async () => {
  // Each wrk thread prints its count at its 1,024th response (and then at most once a second):
  // with 2 threads writing 1,500 keys each, at least one report comes from each.
  const reports: number[] = [];
  const result = await runWrk({
    url: server.url,
    mode: 'preload',
    threads: 2,
    connections: 8,
    durationSeconds: 60,
    scriptArgs: { from: 1000, to: 4000, value: 8 },
    onProgress: (responses) => reports.push(responses),
  });
  // (A thread's last requests in flight when it finishes its share are answered too: at least 3,000.)
  expect(result.status2xx).toBeGreaterThanOrEqual(3000);
  expect(reports.length).toBeGreaterThan(0);
  expect(reports.at(-1)).toBeGreaterThanOrEqual(2 * 1024);
  expect(reports.every((n, i) => n >= 1024 && n <= result.status2xx && (i === 0 || n >= (reports[i - 1] as number)))).toBe(true);
}, 90_000);

test('preload() shows its fill as a progress task and ends it', async () => {
  const lines: string[] = [];
  const output: ProgressOutput = { isTTY: false, write: (text: string) => lines.push(text) };
  // A timer that never fires, so only what preload() itself prints is seen; it counts its starts and stops.
  const timer = { started: 0, stopped: 0 };
  const ticker: Ticker = {
    now: () => 0,
    every: () => {
      timer.started += 1;
      return () => (timer.stopped += 1);
    },
  };
  const display = new Progress({ output, logOutput: output, ticker });
  await preload({ url: server.url, from: 5000, to: 5100, valueBytes: 8, threads: 1, connections: 2, progress: { display, label: 'fill test' } });
  expect(timer).toEqual({ started: 1, stopped: 1 }); // a task was shown and has ended
  expect(display.statusText()).toBe('');
  expect(lines).toEqual([]); // summary: false, the caller prints the result
}, 60_000);

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
}, 60_000);

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
}, 60_000);
