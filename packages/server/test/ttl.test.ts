/**
 * Issue 17: TTL over HTTP. `ttl` in /put and /mset JSON, `?ttl=` on PUT /kv,
 * DEFAULT_TTL for writes without one, ttl 0 = never expires, and the time
 * left shown on reads (x-ttl-ms). Bad TTLs are refused with the limit stated.
 *
 * The clock is the test's: the server runs in this process, and jest's fake
 * Date (timers stay real, so the sockets work) moves the engine's time
 * forward without waiting. Expiry is decided by that logical time only.
 */

import { errorOf } from './support/http';
import { startTestServer, type TestServer } from './support/server';

const START = Date.parse('2030-01-01T00:00:00Z');

let t: TestServer;
beforeAll(async () => {
  jest.useFakeTimers({
    now: START,
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
  jest.useRealTimers();
});

let now = START;
/** Moves the server's clock forward by `ms`. */
const advance = (ms: number): void => {
  now += ms;
  jest.setSystemTime(now);
};
const putJson = (body: unknown) => t.call('POST', '/put', { body: JSON.stringify(body) });

it('/put with ttl: readable with the time left until it expires, then 404', async () => {
  expect((await putJson({ key: 'session', value: 'abc', ttl: 1000 })).status).toBe(200);
  const fresh = await t.call('GET', '/get?key=session');
  expect(fresh.json).toEqual({ key: 'session', value: 'abc' });
  expect(fresh.headers['x-ttl-ms']).toBe('1000');
  advance(999);
  const late = await t.call('GET', '/kv/session');
  expect(late.status).toBe(200);
  expect(late.headers['x-ttl-ms']).toBe('1');
  advance(1);
  expect((await t.call('GET', '/get?key=session')).status).toBe(404);
  expect((await t.call('GET', '/kv/session')).status).toBe(404);
});

it('PUT /kv/<key>?ttl= expires the same way; a value without a TTL shows no x-ttl-ms', async () => {
  expect((await t.call('PUT', '/kv/short?ttl=500', { body: 'bytes' })).status).toBe(200);
  expect((await t.call('PUT', '/kv/forever', { body: 'bytes' })).status).toBe(200);
  expect((await t.call('GET', '/kv/short')).headers['x-ttl-ms']).toBe('500');
  expect((await t.call('GET', '/kv/forever')).headers['x-ttl-ms']).toBeUndefined();
  advance(500);
  expect((await t.call('GET', '/kv/short')).status).toBe(404);
  expect((await t.call('GET', '/kv/forever')).status).toBe(200);
});

it('/mset entries take a ttl each; /mget misses the expired ones', async () => {
  const mset = await t.call('POST', '/mset', {
    body: JSON.stringify({ entries: [{ key: 'm1', value: 'a', ttl: 100 }, { key: 'm2', value: 'b' }, { key: 'm3', value: 'c', ttl: 300 }] }),
  });
  expect(mset.json).toEqual({ ok: true, stored: 3 });
  advance(200);
  expect((await t.call('POST', '/mget', { body: '{"keys":["m1","m2","m3"]}' })).json).toEqual({ values: [null, 'b', 'c'] });
});

it('a write replaces the TTL: without one the entry stops expiring (no DEFAULT_TTL here)', async () => {
  await putJson({ key: 'renew', value: 'v', ttl: 100 });
  await putJson({ key: 'renew', value: 'v2' });
  advance(1000);
  expect((await t.call('GET', '/get?key=renew')).json).toEqual({ key: 'renew', value: 'v2' });
});

it('refuses a bad TTL, stating the limit, and stores nothing', async () => {
  for (const ttl of [-1, 1.5, '100', null, 315_360_000_001]) {
    const reply = await putJson({ key: 'bad-ttl', value: 'x', ttl });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).code).toBe('invalid_ttl');
  }
  expect(errorOf(await putJson({ key: 'bad-ttl', value: 'x', ttl: 315_360_000_001 })).message).toBe(
    'ttl must be a whole number of milliseconds from 0 (never expires) to 315360000000 (ten years), got 315360000001',
  );
  for (const query of ['ttl=-5', 'ttl=soon', 'ttl=', 'ttl=1&ttl=2']) {
    const reply = await t.call('PUT', `/kv/bad-ttl?${query}`, { body: 'x' });
    expect(reply.status).toBe(400);
  }
  const unknown = await t.call('PUT', '/kv/bad-ttl?expires=5', { body: 'x' });
  expect(errorOf(unknown)).toEqual({ code: 'unknown_parameter', message: 'unknown query parameter "expires": PUT /kv/<key> takes only ?ttl=' });
  expect(t.server.cache.has('bad-ttl')).toBe(false);
});

describe('DEFAULT_TTL', () => {
  let d: TestServer;
  beforeAll(async () => {
    d = await startTestServer({ defaultTtl: 10_000 });
  });
  afterAll(() => d.stop());

  it('applies to writes without a ttl on every route; ttl 0 means never expires', async () => {
    await d.call('POST', '/put', { body: JSON.stringify({ key: 'a', value: '1' }) });
    await d.call('PUT', '/kv/b', { body: '2' });
    await d.call('POST', '/mset', { body: JSON.stringify({ entries: [{ key: 'c', value: '3' }] }) });
    await d.call('POST', '/put', { body: JSON.stringify({ key: 'keep', value: 'k', ttl: 0 }) });
    await d.call('PUT', '/kv/keep2?ttl=0', { body: 'k' });
    expect((await d.call('GET', '/kv/a')).headers['x-ttl-ms']).toBe('10000');
    advance(10_000);
    expect((await d.call('POST', '/mget', { body: '{"keys":["a","b","c","keep","keep2"]}' })).json).toEqual({
      values: [null, null, null, 'k', 'k'],
    });
  });
});
