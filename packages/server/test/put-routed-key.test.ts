/**
 * Issue 16: `/put?key=K` is the routable form of the seed's /put. A router that
 * hashes on the URL picks the node by K (packages/cluster, docs/cluster.md), so
 * the server must store the body's key only if it is K: otherwise the entry
 * would land on a node that reads of its key never ask.
 */

import { startTestServer, type TestServer } from './support/server';
import type { HttpResult } from './support/http';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

const put = (query: string, body: unknown) =>
  t.call('POST', `/put${query}`, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

const errorOf = (result: HttpResult) => (result.json as { error: { code: string; message: string } }).error;

describe('PUT|POST /put?key=', () => {
  it('stores the entry when the URL names the body key, plain or percent- and form-encoded', async () => {
    const cases: Array<[string, string]> = [
      ['plain', 'plain'],
      ['a b+c&d=e%f#g/h?i', 'a+b%2Bc%26d%3De%25f%23g%2Fh%3Fi'],
      ['café 🔑', encodeURIComponent('café 🔑')],
      ['tab\there\nnewline', encodeURIComponent('tab\there\nnewline')],
    ];
    for (const [key, encoded] of cases) {
      const stored = await put(`?key=${encoded}`, { key, value: `v-${key}` });
      expect({ key, status: stored.status }).toEqual({ key, status: 200 });
      expect((await t.call('GET', `/get?key=${encodeURIComponent(key)}`)).json).toEqual({ key, value: `v-${key}` });
    }
  });

  it('refuses other query parameters, naming them, and stores nothing (issue 17: never silently ignored)', async () => {
    const refused = await put('?ttl=5', { key: 'no-routed-key', value: 'v' });
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toEqual({
      code: 'unknown_parameter',
      message: 'unknown query parameter "ttl": /put takes only ?key= (ttl and ifVersion go in the JSON body)',
    });
    expect((await put('?key=no-routed-key&other=1', { key: 'no-routed-key', value: 'v' })).status).toBe(400);
    expect((await t.call('GET', '/get?key=no-routed-key')).status).toBe(404);
  });

  it('refuses a body whose key differs from the URL key with 400 key_mismatch, and stores nothing', async () => {
    const refused = await put('?key=url-key', { key: 'body-key', value: 'v' });
    expect(refused.status).toBe(400);
    expect(errorOf(refused).code).toBe('key_mismatch');
    expect(errorOf(refused).message).toContain('"url-key"');
    expect(errorOf(refused).message).toContain('"body-key"');
    expect((await t.call('GET', '/get?key=body-key')).status).toBe(404);
    expect((await t.call('GET', '/get?key=url-key')).status).toBe(404);
  });

  it('compares decoded keys: a Latin-1 byte where the body has UTF-8 is a mismatch', async () => {
    // What a router that decodes \u00e9 to the single byte E9 would forward.
    const refused = await put('?key=ab%E9cd', { key: 'abécd', value: 'v' });
    expect(refused.status).toBe(400);
    expect(errorOf(refused).code).toBe('key_mismatch');
    expect((await t.call('GET', `/get?key=${encodeURIComponent('abécd')}`)).status).toBe(404);
  });

  it('refuses an empty or repeated URL key as /get does', async () => {
    const empty = await put('?key=', { key: 'k', value: 'v' });
    expect([empty.status, errorOf(empty).code]).toEqual([400, 'empty_key']);
    const repeated = await put('?key=k&key=k', { key: 'k', value: 'v' });
    expect([repeated.status, errorOf(repeated).code]).toEqual([400, 'repeated_key']);
    expect((await t.call('GET', '/get?key=k')).status).toBe(404);
  });

  it('still validates the body first: a bad body is its own 400 whatever the URL says', async () => {
    const missing = await t.call('PUT', '/put?key=k', { body: '{"value":"v"}' });
    expect([missing.status, errorOf(missing).code]).toEqual([400, 'missing_key']);
  });
});
