/**
 * The seed's API: PUT/POST /put with {"key","value"} JSON, GET /get?key=.
 */

import { errorOf } from './support/http';
import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

const putJson = (method: 'PUT' | 'POST', body: unknown) =>
  t.call(method, '/put', { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('PUT|POST /put then GET /get', () => {
  it('stores with POST and reads back as {"key","value"} JSON', async () => {
    const put = await putJson('POST', { key: 'foo', value: 'bar' });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ ok: true });
    const get = await t.call('GET', '/get?key=foo');
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(get.json).toEqual({ key: 'foo', value: 'bar' });
  });

  it('stores with PUT and overwrites an existing key', async () => {
    await putJson('PUT', { key: 'over', value: 'one' });
    expect((await putJson('PUT', { key: 'over', value: 'two' })).status).toBe(200);
    expect((await t.call('GET', '/get?key=over')).json).toEqual({ key: 'over', value: 'two' });
  });

  it('answers 404 in the error shape for a missing key', async () => {
    const get = await t.call('GET', '/get?key=never-stored');
    expect(get.status).toBe(404);
    expect(get.json).toEqual({ error: { code: 'not_found', message: 'no value for key "never-stored"' } });
  });

  it('round-trips Unicode, quotes, control characters and the empty value', async () => {
    const cases = [
      { key: 'ключ 🔑', value: 'значение "quoted" \\ back\nslash\t\u0001 ✓ 𝄞' },
      { key: 'empty-value', value: '' },
      { key: 'spaces and + signs', value: 'a+b c' },
    ];
    for (const c of cases) {
      expect((await putJson('POST', c)).status).toBe(200);
      const get = await t.call('GET', `/get?key=${encodeURIComponent(c.key)}`);
      expect(get.status).toBe(200);
      expect(get.json).toEqual(c);
    }
  });

  it('treats __proto__, constructor and prototype as ordinary keys', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']) {
      expect((await t.call('GET', `/get?key=${key}`)).status).toBe(404);
      expect((await putJson('POST', { key, value: `v-${key}` })).status).toBe(200);
      expect((await t.call('GET', `/get?key=${key}`)).json).toEqual({ key, value: `v-${key}` });
    }
  });

  it('refuses a field it does not know, naming it, and stores nothing (#17: never silently ignored)', async () => {
    const reply = await putJson('POST', { key: 'extra', value: 'x', tll: 5 });
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toEqual({ code: 'unknown_field', message: 'unknown field "tll" in the body; known fields: key, value, ttl, ifVersion' });
    expect(t.server.cache.has('extra')).toBe(false);
  });

  it('accepts a value of exactly MAX_VALUE_BYTES and a key of exactly MAX_KEY_BYTES', async () => {
    const { maxKeyBytes, maxValueBytes } = t.server.config;
    const key = 'k'.repeat(maxKeyBytes);
    const value = 'é'.repeat(maxValueBytes / 2); // two UTF-8 bytes each
    expect((await putJson('PUT', { key, value })).status).toBe(200);
    const get = await t.call('GET', `/get?key=${key}`);
    expect(get.status).toBe(200);
    expect((get.json as { value: string }).value).toBe(value);
  });

  it('answers GET /get from the engine: hits and misses are counted there', async () => {
    const before = t.server.cache.stats();
    await t.call('GET', '/get?key=foo');
    await t.call('GET', '/get?key=missing-for-stats');
    const after = t.server.cache.stats();
    expect(after.get_hits - before.get_hits).toBe(1);
    expect(after.get_misses - before.get_misses).toBe(1);
  });
});
