/**
 * The REST routes on raw bytes: GET, HEAD, PUT, DELETE /kv/:key.
 */

import { randomBytes } from 'node:crypto';

import { errorOf } from './support/http';
import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

describe('/kv/:key', () => {
  it('stores any bytes and serves them back byte for byte, with the Content-Type sent', async () => {
    const bytes = randomBytes(100_000);
    bytes[0] = 0; // a NUL and invalid UTF-8 sequences must survive
    bytes[1] = 0xff;
    const put = await t.call('PUT', '/kv/blob', { body: bytes, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ ok: true });
    const get = await t.call('GET', '/kv/blob');
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('image/png');
    expect(get.headers['content-length']).toBe(String(bytes.byteLength));
    expect(get.body.equals(bytes)).toBe(true);
  });

  it('serves application/octet-stream when no Content-Type was sent', async () => {
    await t.call('PUT', '/kv/untyped', { body: 'plain' });
    const get = await t.call('GET', '/kv/untyped');
    expect(get.headers['content-type']).toBe('application/octet-stream');
    expect(get.text).toBe('plain');
  });

  it('stores an empty body as an empty value', async () => {
    expect((await t.call('PUT', '/kv/empty', { body: '' })).status).toBe(200);
    const get = await t.call('GET', '/kv/empty');
    expect(get.status).toBe(200);
    expect(get.body.byteLength).toBe(0);
  });

  it('percent-decodes keys, so encoded slashes, spaces and Unicode round-trip', async () => {
    const key = 'a/b c?d#é🔑';
    await t.call('PUT', `/kv/${encodeURIComponent(key)}`, { body: 'x', headers: { 'content-type': 'text/plain' } });
    expect(t.server.cache.has(key)).toBe(true);
    expect((await t.call('GET', `/kv/${encodeURIComponent(key)}`)).text).toBe('x');
  });

  it('shares one key space with /put and /get', async () => {
    await t.call('POST', '/put', { body: JSON.stringify({ key: 'shared', value: 'from /put ✓' }) });
    const viaKv = await t.call('GET', '/kv/shared');
    expect(viaKv.headers['content-type']).toBe('application/octet-stream');
    expect(viaKv.text).toBe('from /put ✓');
    await t.call('PUT', '/kv/shared', { body: 'from /kv', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect((await t.call('GET', '/get?key=shared')).json).toEqual({ key: 'shared', value: 'from /kv' });
  });

  it('HEAD reports type and length without a body, and without counting a hit', async () => {
    await t.call('PUT', '/kv/headed', { body: '12345', headers: { 'content-type': 'text/csv' } });
    const hitsBefore = t.server.cache.stats().get_hits;
    const head = await t.call('HEAD', '/kv/headed');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/csv');
    expect(head.headers['content-length']).toBe('5');
    expect(head.body.byteLength).toBe(0);
    expect(t.server.cache.stats().get_hits).toBe(hitsBefore);
    expect((await t.call('HEAD', '/kv/not-there')).status).toBe(404);
  });

  it('DELETE removes the key (200), then answers 404', async () => {
    await t.call('PUT', '/kv/doomed', { body: 'x' });
    const first = await t.call('DELETE', '/kv/doomed');
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ ok: true });
    const second = await t.call('DELETE', '/kv/doomed');
    expect(second.status).toBe(404);
    expect(errorOf(second).code).toBe('not_found');
    expect((await t.call('GET', '/kv/doomed')).status).toBe(404);
  });

  it('refuses a Content-Type that cannot be stored (non-ASCII or over 255 bytes) and stores nothing', async () => {
    const long = await t.call('PUT', '/kv/typed', { body: 'x', headers: { 'content-type': `text/${'x'.repeat(251)}` } });
    expect(long.status).toBe(400);
    expect(errorOf(long).code).toBe('invalid_content_type');
    expect(t.server.cache.has('typed')).toBe(false);
  });

  it('answers 400 for a badly percent-encoded key', async () => {
    const bad = await t.call('GET', '/kv/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(errorOf(bad).code).toBe('invalid_key');
  });

  it('treats __proto__ and constructor as ordinary keys', async () => {
    for (const key of ['__proto__', 'constructor']) {
      expect((await t.call('GET', `/kv/${key}`)).status).toBe(404);
      await t.call('PUT', `/kv/${key}`, { body: key });
      expect((await t.call('GET', `/kv/${key}`)).text).toBe(key);
    }
  });
});
