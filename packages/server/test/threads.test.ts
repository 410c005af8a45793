/**
 * THREADS=2 (issue 7): the real CLI runs two hyper-express servers in worker
 * threads on one port over one shared cache. A value written through one
 * thread reads back through the other; concurrent clients agree; /stats and
 * /metrics report the whole cache and each thread's requests.
 *
 * Which thread holds a keep-alive connection is learnt from /stats itself:
 * two /stats calls on the same connection, with no other traffic, differ by
 * exactly one request, counted on that connection's thread.
 */

import http from 'node:http';
import { availableParallelism } from 'node:os';

import { LockTimeoutError } from '@slabcache/engine';

import { toHttpError } from '../src/errors';
import { ConfigError, DEFAULT_CONFIG, parseCommandLine } from '../src/index';

import { spawnCli, type CliProcess } from './support/cli';
import { request, type RequestOptions } from './support/http';

jest.setTimeout(30_000);

interface Stats {
  engine: { curr_items: number; cmd_set: number; get_hits: number };
  threads: Array<{ id: number; requests: number }>;
}

let cli: CliProcess;
let base: string;

beforeAll(async () => {
  cli = spawnCli([], { THREADS: '2' });
  base = `http://127.0.0.1:${await cli.listening()}`;
});

afterAll(async () => {
  cli.child.kill('SIGTERM');
  expect(await cli.exited()).toBe(0);
});

/** One request on a new connection (the kernel picks the thread for each new connection). */
const fresh = (method: string, path: string, options: RequestOptions = {}) => request(base, method, path, options);

async function stats(agent?: http.Agent): Promise<Stats> {
  const reply = await request(base, 'GET', '/stats', agent ? { agent } : {});
  expect(reply.status).toBe(200);
  return reply.json as Stats;
}

/** The thread serving `agent`'s one keep-alive connection. */
async function threadOf(agent: http.Agent): Promise<number> {
  const before = await stats(agent);
  const after = await stats(agent);
  const grew = after.threads.filter((t, i) => t.requests !== before.threads[i]?.requests);
  expect(grew).toHaveLength(1);
  expect(grew[0]!.requests - before.threads[grew[0]!.id]!.requests).toBe(1);
  return grew[0]!.id;
}

/** Keep-alive connections until one is on each thread (the kernel spreads new connections, so this ends quickly). */
async function connectionPerThread(): Promise<[http.Agent, http.Agent]> {
  const byThread = new Map<number, http.Agent>();
  const spare: http.Agent[] = [];
  for (let attempt = 0; attempt < 60 && byThread.size < 2; attempt++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const thread = await threadOf(agent);
    if (byThread.has(thread)) spare.push(agent);
    else byThread.set(thread, agent);
  }
  spare.forEach((agent) => agent.destroy());
  if (byThread.size < 2) throw new Error('60 new connections all went to one thread');
  return [byThread.get(0)!, byThread.get(1)!];
}

it('runs as many server threads as cores by default (CLI), and /stats lists each thread', async () => {
  expect(DEFAULT_CONFIG.threads).toBe(availableParallelism());
  const body = await stats();
  expect(body.threads.map((t) => t.id)).toEqual([0, 1]);
  expect(cli.logs.find((l) => l['msg'] === 'listening')).toMatchObject({ threads: 2 });
});

it('a value written through one thread is read, overwritten and deleted through the other', async () => {
  const [onThread0, onThread1] = await connectionPerThread();
  try {
    const put = await request(base, 'POST', '/put', { agent: onThread0, body: JSON.stringify({ key: 'x-thread', value: 'written by 0' }) });
    expect(put.status).toBe(200);
    expect((await request(base, 'GET', '/get?key=x-thread', { agent: onThread1 })).json).toEqual({ key: 'x-thread', value: 'written by 0' });

    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await request(base, 'PUT', '/kv/x-bytes', { agent: onThread1, body: bytes, headers: { 'content-type': 'image/x-test' } });
    const read = await request(base, 'GET', '/kv/x-bytes', { agent: onThread0 });
    expect(read.body.equals(bytes)).toBe(true);
    expect(read.headers['content-type']).toBe('image/x-test');

    await request(base, 'POST', '/put', { agent: onThread1, body: JSON.stringify({ key: 'x-thread', value: 'then by 1' }) });
    expect((await request(base, 'GET', '/get?key=x-thread', { agent: onThread0 })).json).toEqual({ key: 'x-thread', value: 'then by 1' });
    expect((await request(base, 'DELETE', '/kv/x-thread', { agent: onThread0 })).status).toBe(200);
    expect((await request(base, 'GET', '/get?key=x-thread', { agent: onThread1 })).status).toBe(404);
    // Each connection stayed on its thread throughout.
    expect(await threadOf(onThread0)).toBe(0);
    expect(await threadOf(onThread1)).toBe(1);
  } finally {
    onThread0.destroy();
    onThread1.destroy();
  }
});

it('keys written over many new connections all read back over new connections; both threads served them', async () => {
  const before = await stats();
  const keys = Array.from({ length: 120 }, (_, i) => `fresh-${i}`);
  for (const key of keys) {
    expect((await fresh('POST', '/put', { body: JSON.stringify({ key, value: `value of ${key}` }) })).status).toBe(200);
  }
  for (const key of keys) {
    expect((await fresh('GET', `/get?key=${key}`)).json).toEqual({ key, value: `value of ${key}` });
  }
  const after = await stats();
  const served = after.threads.map((t, i) => t.requests - before.threads[i]!.requests);
  // 240 requests plus the first /stats call, spread over both threads by the kernel.
  expect(served.reduce((a, b) => a + b, 0)).toBe(2 * keys.length + 1);
  expect(served[0]).toBeGreaterThan(0);
  expect(served[1]).toBeGreaterThan(0);
});

it('concurrent clients on both threads: every key holds a value written for it, and the counts add up', async () => {
  const clients = 8;
  const perClient = 40;
  const before = await stats();
  const agents = Array.from({ length: clients }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  try {
    await Promise.all(
      agents.map(async (agent, c) => {
        for (let j = 0; j < perClient; j++) {
          // Every client also overwrites one shared key: the last write wins, whichever thread it came through.
          const key = j % 10 === 0 ? 'shared' : `c${c}-${j}`;
          const put = await request(base, 'PUT', `/kv/${key}`, { agent, body: `client ${c} write ${j} `.repeat(20) });
          expect(put.status).toBe(200);
          const read = await request(base, 'GET', `/kv/c${(c + 1) % clients}-${j}`, { agent });
          expect([200, 404]).toContain(read.status);
          if (read.status === 200) expect(read.text).toBe(`client ${(c + 1) % clients} write ${j} `.repeat(20));
        }
      }),
    );
  } finally {
    agents.forEach((agent) => agent.destroy());
  }
  for (let c = 0; c < clients; c++) {
    for (let j = 1; j < perClient; j++) {
      if (j % 10 === 0) continue;
      expect((await fresh('GET', `/kv/c${c}-${j}`)).text).toBe(`client ${c} write ${j} `.repeat(20));
    }
  }
  const shared = (await fresh('GET', '/kv/shared')).text;
  expect(shared).toMatch(/^(client \d write (0|10|20|30) ){20}$/);
  const after = await stats();
  expect(after.engine.cmd_set - before.engine.cmd_set).toBe(clients * perClient);
  const served = after.threads.reduce((sum, t, i) => sum + t.requests - before.threads[i]!.requests, 0);
  // The first /stats, the PUT+GET pairs, the per-key reads and the read of the shared key.
  expect(served).toBe(1 + 2 * clients * perClient + clients * (perClient - perClient / 10) + 1);
});

it('/stats and /metrics report the one shared cache whichever thread serves them, and requests per thread', async () => {
  const [onThread0, onThread1] = await connectionPerThread();
  try {
    await request(base, 'PUT', '/kv/metrics-key', { agent: onThread0, body: 'v' });
    const via0 = await stats(onThread0);
    const via1 = await stats(onThread1);
    expect(via1.engine.curr_items).toBe(via0.engine.curr_items);
    expect(via1.engine.cmd_set).toBe(via0.engine.cmd_set);
    const metrics = (await request(base, 'GET', '/metrics', { agent: onThread1 })).text;
    const items = metrics.split('\n').find((l) => l.startsWith('slabcache_items '));
    expect(Number(items?.split(' ')[1])).toBe(via0.engine.curr_items);
    // The request counter has a thread label; its series add up to /stats' per-thread counts.
    const perThread = [0, 0];
    for (const line of metrics.split('\n')) {
      const match = /^http_requests_total\{.*thread="(\d)"\} (\d+)$/.exec(line);
      if (match) perThread[Number(match[1])]! += Number(match[2]);
    }
    const now = await stats(onThread1);
    // `now` counts the /metrics call (served by thread 1) and the earlier /stats call on thread 1.
    expect(perThread[0]).toBe(now.threads[0]!.requests);
    expect(perThread[1]).toBe(now.threads[1]!.requests - 1);
    expect(metrics).toMatch(/^http_request_duration_seconds_count\{route="\/kv\/:key",method="PUT"\} [1-9]\d*$/m);
  } finally {
    onThread0.destroy();
    onThread1.destroy();
  }
});

it('a cache lock held too long (a server thread died holding it) is answered 503 cache_locked and logged', () => {
  const { httpError, internal } = toHttpError(new LockTimeoutError(5000, 3));
  expect([httpError.status, httpError.code, internal]).toEqual([503, 'cache_locked', true]);
  expect(httpError.message).not.toMatch(/thread 3/);
});

it('THREADS / --threads: 1 to 256, flags over env, anything else refused naming the setting', () => {
  expect(parseCommandLine([], { THREADS: '3' }).config.threads).toBe(3);
  expect(parseCommandLine(['--threads', '1'], { THREADS: '4' }).config.threads).toBe(1);
  expect(() => parseCommandLine(['--threads=0'], {})).toThrow(ConfigError);
  expect(() => parseCommandLine([], { THREADS: '257' })).toThrow(/invalid THREADS="257": must be an integer from 1 to 256/);
  expect(() => parseCommandLine([], { THREADS: 'all' })).toThrow(/invalid THREADS="all"/);
});
