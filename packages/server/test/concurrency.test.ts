/**
 * Many clients at once: 32 keep-alive connections each write and read their
 * own keys in parallel; every reply is correct and nothing is lost.
 */

import http from 'node:http';

import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

const CLIENTS = 32;
const KEYS_PER_CLIENT = 40;

it('serves concurrent clients writing and reading their own keys', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const client = async (c: number): Promise<void> => {
      for (let i = 0; i < KEYS_PER_CLIENT; i++) {
        const key = `client-${c}-key-${i}`;
        const value = `value ${c}/${i} ${'x'.repeat((c * 7 + i) % 300)}`;
        if (i % 2 === 0) {
          expect((await t.call('POST', '/put', { agent, body: JSON.stringify({ key, value }) })).status).toBe(200);
          expect((await t.call('GET', `/get?key=${encodeURIComponent(key)}`, { agent })).json).toEqual({ key, value });
        } else {
          expect((await t.call('PUT', `/kv/${encodeURIComponent(key)}`, { agent, body: value })).status).toBe(200);
          expect((await t.call('GET', `/kv/${encodeURIComponent(key)}`, { agent })).text).toBe(value);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    expect(t.server.cache.size).toBe(CLIENTS * KEYS_PER_CLIENT);
    const stats = t.server.cache.stats();
    expect(stats.get_hits).toBe(CLIENTS * KEYS_PER_CLIENT);
    expect(stats.get_misses).toBe(0);
  } finally {
    agent.destroy();
  }
});
