/**
 * The baseline peer answers the seed's API: PUT and POST /put with JSON
 * {key, value}, GET /get?key=, 404 for a missing key, 400 for a malformed
 * request, and evicts the least recently used key past MAX_KEYS. Real server
 * process on an OS-assigned port, real HTTP client.
 */

import { startBaseline, type TestServer } from './support/baseline.js';

let server: TestServer;

beforeAll(async () => {
  server = await startBaseline({ MAX_KEYS: '3' });
});

afterAll(async () => {
  await server?.stop();
});

async function put(method: 'PUT' | 'POST', body: unknown): Promise<Response> {
  return fetch(`${server.url}/put`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function get(key: string): Promise<Response> {
  return fetch(`${server.url}/get?key=${encodeURIComponent(key)}`);
}

test('PUT /put stores a value that GET /get returns', async () => {
  const stored = await put('PUT', { key: 'alpha', value: 'one' });
  expect(stored.status).toBe(200);
  expect(await stored.json()).toEqual({ ok: true });
  const read = await get('alpha');
  expect(read.status).toBe(200);
  expect(await read.json()).toEqual({ key: 'alpha', value: 'one' });
});

test('POST /put works like PUT and overwrites', async () => {
  expect((await put('POST', { key: 'alpha', value: 'two' })).status).toBe(200);
  expect(await (await get('alpha')).json()).toEqual({ key: 'alpha', value: 'two' });
});

test('a missing key answers 404', async () => {
  const read = await get('never-stored');
  expect(read.status).toBe(404);
  expect(await read.json()).toEqual({ error: 'Key not found' });
});

test('malformed requests answer 400', async () => {
  expect((await put('PUT', { key: 'k' })).status).toBe(400);
  expect((await put('PUT', { key: 7, value: 'v' })).status).toBe(400);
  expect((await put('PUT', '{not json')).status).toBe(400);
  expect((await fetch(`${server.url}/get`)).status).toBe(400);
});

test('past MAX_KEYS the least recently used key is evicted', async () => {
  for (const key of ['a', 'b', 'c']) expect((await put('PUT', { key, value: key })).status).toBe(200);
  // Reading "a" makes "b" the least recently used.
  expect((await get('a')).status).toBe(200);
  expect((await put('PUT', { key: 'd', value: 'd' })).status).toBe(200);
  expect((await get('b')).status).toBe(404);
  for (const key of ['a', 'c', 'd']) expect((await get(key)).status).toBe(200);
});
