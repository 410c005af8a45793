/**
 * Issue 19: @slabcache/client against a real server with AUTH_TOKEN and a
 * read-only token: the `token` option is sent as a bearer header on every
 * call, and refusals come back as typed server errors, never retried.
 */

import { createServer, type SlabcacheServer } from '@slabcache/server';

import { isServerError, SlabcacheClient } from '../src/index';

const WRITER = 'client-test-writer-token-0123456789abcdef';
const READER = 'client-test-reader-token-0123456789abcdef';

let server: SlabcacheServer;
let base: string;
beforeAll(async () => {
  server = createServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', maxKeys: 1000, maxBytes: 16 * 1024 * 1024, authToken: WRITER, authReadToken: READER, authFailureLimit: 0 });
  base = `http://127.0.0.1:${await server.start()}`;
}, 60_000);
afterAll(() => server.stop(), 60_000);

/** The error a call rejects with (fails the test if it resolves). */
async function refusal(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error('the call was expected to be refused');
}

it('with the token, every kind of call works', async () => {
  const client = new SlabcacheClient({ url: base, token: WRITER });
  try {
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    expect(await client.setMany([{ key: 'a', value: '1' }])).toBe(1);
    expect(await client.getMany(['a', 'k', 'nope'])).toEqual(['1', 'v', undefined]);
    expect(await client.delete('a')).toBe(true);
    expect((await client.stats()).engine.curr_items).toBe(1);
  } finally {
    await client.close();
  }
});

it('without a token or with a wrong one: 401 errors with the server\'s codes, sent once', async () => {
  const before = server.metrics;
  const none = new SlabcacheClient({ url: base });
  const wrong = new SlabcacheClient({ url: base, token: 'not-the-token' });
  try {
    const missing = await refusal(none.get('k'));
    expect(isServerError(missing, 'unauthorized')).toBe(true);
    expect(missing).toMatchObject({ status: 401 });
    expect(isServerError(await refusal(wrong.set('k', 'x')), 'invalid_token')).toBe(true);
    expect(server.cache.get('k')).toBe('v');
    // Not retried: exactly one refusal each was counted.
    const text = await before.render();
    expect(text).toMatch(/^slabcache_auth_failures_total\{reason="missing_token"\} 1$/m);
    expect(text).toMatch(/^slabcache_auth_failures_total\{reason="invalid_token"\} 1$/m);
  } finally {
    await none.close();
    await wrong.close();
  }
});

it('a read-only token reads, and its writes are refused with insufficient_scope', async () => {
  const reader = new SlabcacheClient({ url: base, token: READER });
  try {
    expect(await reader.get('k')).toBe('v');
    expect(await reader.getMany(['k'])).toEqual(['v']);
    const write = await refusal(reader.set('k', 'changed'));
    expect(isServerError(write, 'insufficient_scope')).toBe(true);
    expect(write).toMatchObject({ status: 403 });
    expect(isServerError(await refusal(reader.deleteMany(['k'])), 'insufficient_scope')).toBe(true);
    expect(server.cache.get('k')).toBe('v');
  } finally {
    await reader.close();
  }
});

it('refuses a token that could not be sent as a bearer header', () => {
  for (const token of ['', 'two words', 'line\r\nbreak', 'quote"']) {
    expect(() => new SlabcacheClient({ url: base, token })).toThrow(/option token must be a bearer token/);
  }
  expect(() => new SlabcacheClient({ url: base, token: 42 as unknown as string })).toThrow(TypeError);
});
