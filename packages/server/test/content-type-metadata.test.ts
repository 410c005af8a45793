/**
 * Issue 18 (part 3), one cache for library and HTTP users: the server keeps a
 * value's Content-Type in the entry's metadata, never inside the value. A
 * value written over HTTP reads back byte-identical through `server.cache`;
 * a value an embedding program sets reads back over HTTP (/get as text, /kv
 * as bytes, application/octet-stream unless its metadata is a content type);
 * metadata that is not a storable content type never reaches a header.
 */

import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

const BINARY = Buffer.from([0x00, 0x01, 0xff, 0x80, 0x0a, 0x0d, 0x7f, 0x20]);

it('HTTP writes read back byte-identical through server.cache, with the Content-Type as metadata', async () => {
  await t.call('POST', '/put', { body: JSON.stringify({ key: 'foo', value: 'bar' }) });
  expect(t.server.cache.get('foo')).toBe('bar');
  expect(t.server.cache.getEntry('foo')!.meta).toBeUndefined();

  await t.call('PUT', '/kv/blob', { body: BINARY, headers: { 'content-type': 'application/x-thing; v=2' } });
  expect(t.server.cache.getBytes('blob')).toEqual(BINARY);
  expect(t.server.cache.getEntryBytes('blob')).toMatchObject({ value: BINARY, meta: 'application/x-thing; v=2' });

  await t.call('POST', '/mset', { body: JSON.stringify({ entries: [{ key: 'm', value: 'ünïcode' }] }) });
  expect(t.server.cache.get('m')).toBe('ünïcode');
});

it('library writes read back over HTTP: /get as text, /kv as bytes', async () => {
  t.server.cache.set('text', 'hello from the library');
  t.server.cache.set('bytes', BINARY);
  t.server.cache.set('typed', Buffer.from('<p>hi</p>'), { meta: 'text/html; charset=utf-8' });
  expect((await t.call('GET', '/get?key=text')).json).toEqual({ key: 'text', value: 'hello from the library' });
  const kvText = await t.call('GET', '/kv/text');
  expect(kvText.text).toBe('hello from the library');
  expect(kvText.headers['content-type']).toBe('application/octet-stream');
  const kvBytes = await t.call('GET', '/kv/bytes');
  expect(kvBytes.body).toEqual(BINARY);
  expect(kvBytes.headers['content-type']).toBe('application/octet-stream');
  const typed = await t.call('GET', '/kv/typed');
  expect(typed.text).toBe('<p>hi</p>');
  expect(typed.headers['content-type']).toBe('text/html; charset=utf-8');
  expect((await t.call('HEAD', '/kv/typed')).headers['content-length']).toBe(String('<p>hi</p>'.length));
});

it('serves metadata that is not a storable content type as application/octet-stream (no header injection)', async () => {
  t.server.cache.set('hostile', 'x', { meta: 'text/html\r\nSet-Cookie: stolen=1' });
  t.server.cache.set('unicode-meta', 'y', { meta: 'tëxt/plain' });
  for (const key of ['hostile', 'unicode-meta']) {
    const reply = await t.call('GET', `/kv/${key}`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/octet-stream');
    expect(reply.headers['set-cookie']).toBeUndefined();
  }
});

it('a PUT without Content-Type stores no metadata; a Content-Type of 255 bytes is kept whole', async () => {
  await t.call('PUT', '/kv/untyped', { body: 'u' });
  expect(t.server.cache.getEntry('untyped')!.meta).toBeUndefined();
  const long = `text/${'x'.repeat(250)}`;
  expect(long.length).toBe(255);
  expect((await t.call('PUT', '/kv/long-type', { body: 'l', headers: { 'content-type': long } })).status).toBe(200);
  expect((await t.call('GET', '/kv/long-type')).headers['content-type']).toBe(long);
});
