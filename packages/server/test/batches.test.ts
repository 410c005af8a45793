/**
 * Issue 17: POST /mget, /mset, /mdel. Replies aligned with the keys; a batch
 * validated whole before anything is written (a bad last entry stores
 * nothing); every limit (MAX_BATCH_KEYS, MAX_BATCH_BYTES for the body and the
 * /mget reply, key and value sizes) stated in its error; unknown fields
 * refused at any depth.
 */

import { errorOf } from './support/http';
import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ maxBatchKeys: 5, maxBatchBytes: 4096, maxKeyBytes: 64, maxValueBytes: 1024 });
});
afterAll(() => t.stop());

const post = (path: string, body: unknown) => t.call('POST', path, { body: typeof body === 'string' ? body : JSON.stringify(body) });

it('/mset stores every entry; /mget answers aligned values with null for a miss; /mdel counts what it deleted', async () => {
  expect((await post('/mset', { entries: [{ key: 'a', value: '1' }, { key: 'b', value: 'zwei' }, { key: 'é', value: '日本' }] })).json).toEqual({
    ok: true,
    stored: 3,
  });
  expect((await post('/mget', { keys: ['b', 'missing', 'a', 'é', 'a'] })).json).toEqual({ values: ['zwei', null, '1', '日本', '1'] });
  expect((await post('/mdel', { keys: ['a', 'missing', 'a'] })).json).toEqual({ deleted: 1 });
  expect((await post('/mget', { keys: ['a', 'b'] })).json).toEqual({ values: [null, 'zwei'] });
  expect((await post('/mget', { keys: [] })).json).toEqual({ values: [] });
  expect((await post('/mset', { entries: [] })).json).toEqual({ ok: true, stored: 0 });
});

it('/mset applies entries in order: a key given twice ends with its last value', async () => {
  await post('/mset', { entries: [{ key: 'dup', value: 'first' }, { key: 'dup', value: 'last' }] });
  expect(t.server.cache.get('dup')).toBe('last');
});

it('/mget reads values stored by /kv and by the library as text; hits count in the engine', async () => {
  await t.call('PUT', '/kv/raw', { body: Buffer.from('bytes ✓') });
  t.server.cache.set('lib', 'from the embedding program');
  const before = t.server.cache.stats();
  expect((await post('/mget', { keys: ['raw', 'lib', 'nope'] })).json).toEqual({ values: ['bytes ✓', 'from the embedding program', null] });
  const after = t.server.cache.stats();
  expect(after.get_hits - before.get_hits).toBe(2);
  expect(after.get_misses - before.get_misses).toBe(1);
});

it('validates the whole batch first: a bad last entry stores none of the others', async () => {
  const cases: [unknown, number, string, string][] = [
    [{ entries: [{ key: 'v1', value: 'ok' }, { key: 'v2', value: 'ok', extra: 1 }] }, 400, 'unknown_field', 'unknown field "extra" in entries[1]; known fields: key, value, ttl'],
    [{ entries: [{ key: 'v1', value: 'ok' }, { key: '', value: 'x' }] }, 400, 'empty_key', 'entries[1].key must not be empty'],
    [{ entries: [{ key: 'v1', value: 'ok' }, { key: 'v2', value: 7 }] }, 400, 'invalid_body', '"entries[1].value" must be string'],
    [{ entries: [{ key: 'v1', value: 'ok' }, { key: 'v2', value: 'x', ttl: -1 }] }, 400, 'invalid_ttl', 'entries[1].ttl must be a whole number of milliseconds ≥ 0 (0 = never expires)'],
    [{ entries: [{ key: 'v1', value: 'ok' }, { key: 'k'.repeat(65), value: 'x' }] }, 413, 'key_too_large', 'entries[1]: key is 65 bytes, over the MAX_KEY_BYTES limit of 64 bytes'],
    [{ entries: [{ key: 'v1', value: 'ok' }, { key: 'v2', value: 'é'.repeat(513) }] }, 413, 'value_too_large', 'entries[1]: value is 1026 bytes, over the MAX_VALUE_BYTES limit of 1024 bytes'],
    [{ entries: [{ key: 'v1', value: 'ok' }], more: true }, 400, 'unknown_field', 'unknown field "more" in the body; known fields: entries'],
    [{ keys: ['v1'] }, 400, 'invalid_body', 'body must have an array "entries" field'],
    ['[]', 400, 'invalid_body', 'body must be object'],
  ];
  for (const [body, status, code, message] of cases) {
    const reply = await post('/mset', body);
    expect([reply.status, errorOf(reply)]).toEqual([status, { code, message }]);
  }
  expect(t.server.cache.has('v1')).toBe(false);
});

it('states MAX_BATCH_KEYS when a batch has too many keys, on every batch route', async () => {
  const keys = ['1', '2', '3', '4', '5', '6'];
  for (const [path, body] of [
    ['/mget', { keys }],
    ['/mdel', { keys }],
    ['/mset', { entries: keys.map((key) => ({ key, value: key })) }],
  ] as const) {
    const reply = await post(path, body);
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toEqual({ code: 'too_many_keys', message: `${path} has 6 keys, over the MAX_BATCH_KEYS limit of 5 per batch; split it` });
  }
  expect(t.server.cache.has('1')).toBe(false);
  expect((await post('/mget', { keys: keys.slice(0, 5) })).status).toBe(200);
});

it('states MAX_BATCH_BYTES for a body over it, and for an /mget reply that would be over it', async () => {
  const big = await post('/mset', { entries: [{ key: 'big', value: 'x'.repeat(5000) }] });
  expect(big.status).toBe(413);
  expect(errorOf(big).message).toMatch(/^request body is \d+ bytes, over the MAX_BATCH_BYTES limit of 4096 bytes for one batch$/);
  for (let i = 0; i < 5; i++) t.server.cache.set(`wide${i}`, 'w'.repeat(1000));
  const reply = await post('/mget', { keys: ['wide0', 'wide1', 'wide2', 'wide3', 'wide4'] });
  expect(reply.status).toBe(413);
  expect(errorOf(reply)).toEqual({
    code: 'reply_too_large',
    message: 'the reply to this /mget would be over 4096 bytes after 5 of 5 values, over the MAX_BATCH_BYTES limit of 4096 bytes; ask for fewer keys at once',
  });
  expect((await post('/mget', { keys: ['wide0', 'wide1', 'wide2'] })).status).toBe(200);
});

it('refuses malformed bodies, keys that are not strings, and query parameters', async () => {
  expect(errorOf(await post('/mget', 'not json')).code).toBe('invalid_json');
  expect(errorOf(await post('/mget', { keys: 'a' })).message).toBe('"keys" must be array');
  expect(errorOf(await post('/mget', { keys: ['a', 3] })).message).toBe('"keys[1]" must be string');
  expect(errorOf(await post('/mdel', { keys: ['a', ''] }))).toEqual({ code: 'empty_key', message: 'keys[1] must not be empty' });
  expect(errorOf(await post('/mdel', {}))).toEqual({ code: 'invalid_body', message: 'body must have an array "keys" field' });
  const query = await t.call('POST', '/mget?keys=a', { body: '{"keys":["a"]}' });
  expect(errorOf(query)).toEqual({ code: 'unknown_parameter', message: 'unknown query parameter "keys": POST /mget takes no query parameters' });
  expect((await t.call('GET', '/mget')).status).toBe(405);
});
