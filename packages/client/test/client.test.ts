/**
 * @slabcache/client against a real slabcache server (real uWS on 127.0.0.1,
 * port 0): every call, its results and its typed errors.
 */

import { createServer, type SlabcacheServer } from '@slabcache/server';

import { isServerError, SlabcacheClient, SlabcacheServerError } from '../src/index';

let server: SlabcacheServer;
let client: SlabcacheClient;
beforeAll(async () => {
  server = createServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', maxKeys: 10_000, maxBytes: 64 * 1024 * 1024, maxValueBytes: 4096, maxBatchKeys: 50 });
  const port = await server.start();
  client = new SlabcacheClient({ url: `http://127.0.0.1:${port}` });
});
afterAll(async () => {
  await client.close();
  await server.stop();
});

it('set then get, getBytes and getEntry; a miss is undefined', async () => {
  await client.set('greeting', 'hello, wörld');
  expect(await client.get('greeting')).toBe('hello, wörld');
  expect(await client.getBytes('greeting')).toEqual(Buffer.from('hello, wörld'));
  expect(await client.get('nope')).toBeUndefined();
  expect(await client.getEntry('nope')).toBeUndefined();
  const entry = await client.getEntry('greeting');
  expect(entry).toEqual({
    value: Buffer.from('hello, wörld'),
    version: server.cache.getEntry('greeting', { peek: true })!.version,
    contentType: 'application/octet-stream',
    ttl: undefined,
  });
});

it('stores bytes exactly, with a content type, and keys that need escaping', async () => {
  const bytes = Buffer.from([0, 1, 2, 255, 254, 0x0a]);
  for (const key of ['a/b?c&d=e', 'é 日本 😀', '__proto__', '%41', '+']) {
    await client.set(key, bytes, { contentType: 'image/x-test' });
    expect(server.cache.getEntryBytes(key, { peek: true })).toMatchObject({ value: bytes, meta: 'image/x-test' });
    expect(await client.getEntry(key)).toMatchObject({ value: bytes, contentType: 'image/x-test' });
  }
});

it('set with ttl: the entry reports the time it has left', async () => {
  await client.set('short', 'x', { ttl: 60_000 });
  const entry = await client.getEntry('short');
  expect(entry!.ttl).toBeGreaterThan(0);
  expect(entry!.ttl).toBeLessThanOrEqual(60_000);
  expect(server.cache.getRemainingTTL('short')).toBeLessThanOrEqual(60_000);
});

it('delete answers whether the key held a value', async () => {
  await client.set('gone', 'x');
  expect(await client.delete('gone')).toBe(true);
  expect(await client.delete('gone')).toBe(false);
  expect(server.cache.has('gone')).toBe(false);
});

it('cas: stores at the expected version and answers the new one; 0 when the entry changed; expected 0 creates only', async () => {
  expect(await client.cas('counter', '1', 0)).toBeGreaterThan(0);
  expect(await client.cas('counter', 'again', 0)).toBe(0);
  const entry = (await client.getEntry('counter'))!;
  const next = await client.cas('counter', '2', entry.version);
  expect(next).toBeGreaterThan(entry.version);
  expect(await client.cas('counter', '3', entry.version)).toBe(0);
  expect(await client.get('counter')).toBe('2');
  expect((await client.getEntry('counter'))!.version).toBe(next);
});

it('getMany, setMany, deleteMany: aligned values, counts, batches split at batchSize', async () => {
  const entries = Array.from({ length: 120 }, (_, i) => ({ key: `batch-${i}`, value: `v${i}`, ...(i % 2 === 0 ? { ttl: 60_000 } : {}) }));
  // 120 entries over a server whose MAX_BATCH_KEYS is 50: the client splits them (batchSize 40).
  const small = new SlabcacheClient({ url: client.nodes[0]!, batchSize: 40 });
  try {
    expect(await small.setMany(entries)).toBe(120);
    const keys = [...entries.map((e) => e.key), 'absent', 'batch-0'];
    const values = await small.getMany(keys);
    expect(values).toEqual([...entries.map((e) => e.value), undefined, 'v0']);
    expect(server.cache.getRemainingTTL('batch-0')).toBeLessThanOrEqual(60_000);
    expect(server.cache.getRemainingTTL('batch-1')).toBe(Infinity);
    expect(await small.deleteMany(['batch-0', 'batch-1', 'absent', 'batch-0'])).toBe(2);
    expect(await small.getMany([])).toEqual([]);
  } finally {
    await small.close();
  }
});

it("errors are typed after the server's codes", async () => {
  const tooBig = await client.set('big', 'x'.repeat(5000)).catch((error: unknown) => error);
  expect(tooBig).toBeInstanceOf(SlabcacheServerError);
  expect(tooBig).toMatchObject({ status: 413, code: 'value_too_large', node: client.nodes[0] });
  expect(isServerError(tooBig, 'value_too_large')).toBe(true);
  // A batch over the server's MAX_BATCH_KEYS (the client's batchSize is 1000 by default).
  const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
  await expect(client.getMany(keys)).rejects.toMatchObject({ status: 400, code: 'too_many_keys' });
  await expect(client.set('bad-ttl', 'x', { ttl: 315_360_000_001 })).rejects.toMatchObject({ status: 400, code: 'invalid_ttl' });
});

it('refuses bad arguments before sending anything', async () => {
  await expect(client.get('')).rejects.toThrow(TypeError);
  await expect(client.cas('k', 'v', -1)).rejects.toThrow(/expectedVersion/);
  await expect(client.set('k', 'v', { ttl: 1.5 })).rejects.toThrow(/ttl/);
  await expect(client.setMany([{ key: 'k', value: Buffer.from('x') as unknown as string }])).rejects.toThrow(/strings/);
  expect(() => new SlabcacheClient({})).toThrow(/url .* or nodes/);
  expect(() => new SlabcacheClient({ url: 'http://a', nodes: ['http://b'] })).toThrow(/not both/);
  expect(() => new SlabcacheClient({ url: 'http://a', timeOut: 5 } as never)).toThrow(/unknown option "timeOut"/);
  expect(() => new SlabcacheClient({ url: 'ftp://a' })).toThrow(/http/);
});

it('stats and health', async () => {
  const stats = await client.stats();
  expect(stats.engine.curr_items).toBe(server.cache.size);
  expect(stats.engine.cas_hits).toBeGreaterThan(0);
  expect(await client.health()).toEqual({ ok: true, nodes: [{ url: client.nodes[0], ok: true }] });
});
