/**
 * 413 for a key, a value or a body over its limit: the message names the
 * limit and its value, the cache is unchanged, and the connection stays usable.
 * Limits are lowered here (MAX_KEY_BYTES=64, MAX_VALUE_BYTES=4096) to keep
 * bodies small.
 */

import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';

import { putBodyLimit } from '../src/index';

import { errorOf, type HttpResult } from './support/http';
import { startTestServer, type TestServer } from './support/server';

const MAX_KEY_BYTES = 64;
const MAX_VALUE_BYTES = 4096;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ maxKeyBytes: MAX_KEY_BYTES, maxValueBytes: MAX_VALUE_BYTES });
});
afterAll(() => t.stop());

function expect413(result: HttpResult, code: string, limitText: RegExp): void {
  expect(result.status).toBe(413);
  const error = errorOf(result);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(limitText);
}

const keyLimit = new RegExp(`MAX_KEY_BYTES limit of ${MAX_KEY_BYTES} bytes`);
const valueLimit = new RegExp(`MAX_VALUE_BYTES limit of ${MAX_VALUE_BYTES} bytes`);

describe('413 Payload Too Large', () => {
  it('for a key over MAX_KEY_BYTES on every route, counted in UTF-8 bytes', async () => {
    const longKey = 'é'.repeat(MAX_KEY_BYTES / 2 + 1); // 66 bytes in 33 characters
    const encoded = encodeURIComponent(longKey);
    expect413(await t.call('POST', '/put', { body: JSON.stringify({ key: longKey, value: 'v' }) }), 'key_too_large', keyLimit);
    expect413(await t.call('GET', `/get?key=${encoded}`), 'key_too_large', keyLimit);
    expect413(await t.call('PUT', `/kv/${encoded}`, { body: 'v' }), 'key_too_large', keyLimit);
    expect413(await t.call('GET', `/kv/${encoded}`), 'key_too_large', keyLimit);
    expect(t.server.cache.size).toBe(0);
  });

  it('for a JSON value over MAX_VALUE_BYTES (the message gives its size)', async () => {
    const result = await t.call('POST', '/put', { body: JSON.stringify({ key: 'big', value: 'x'.repeat(MAX_VALUE_BYTES + 1) }) });
    expect413(result, 'value_too_large', valueLimit);
    expect(errorOf(result).message).toMatch(`value is ${MAX_VALUE_BYTES + 1} bytes`);
    expect(t.server.cache.has('big')).toBe(false);
  });

  it('for a /kv body over MAX_VALUE_BYTES, with Content-Length or chunked', async () => {
    const body = Buffer.alloc(MAX_VALUE_BYTES + 1, 1);
    expect413(await t.call('PUT', '/kv/big', { body }), 'value_too_large', valueLimit);
    expect413(await t.call('PUT', '/kv/big', { body, chunkSize: 1000 }), 'value_too_large', valueLimit);
    expect(t.server.cache.has('big')).toBe(false);
    // Exactly at the limit is fine, both ways.
    expect((await t.call('PUT', '/kv/at-limit', { body: body.subarray(1) })).status).toBe(200);
    expect((await t.call('PUT', '/kv/at-limit-chunked', { body: body.subarray(1), chunkSize: 1000 })).status).toBe(200);
  });

  it('for a /put body over the JSON body limit, with Content-Length or chunked', async () => {
    const limit = putBodyLimit(t.server.config);
    expect(limit).toBe(2 * (MAX_KEY_BYTES + MAX_VALUE_BYTES) + 4096);
    const body = JSON.stringify({ key: 'k', value: 'x'.repeat(limit) });
    const bodyLimit = new RegExp(`over the limit of ${limit} bytes`);
    expect413(await t.call('POST', '/put', { body }), 'body_too_large', bodyLimit);
    expect413(await t.call('POST', '/put', { body, chunkSize: 4096 }), 'body_too_large', bodyLimit);
    expect(t.server.cache.has('k')).toBe(false);
  });

  it('keeps the keep-alive connection usable after each 413', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Buffer.alloc(MAX_VALUE_BYTES * 3, 2);
      const replies = [
        await t.call('PUT', '/kv/a', { body: 'small', agent }),
        await t.call('PUT', '/kv/a', { body: big, agent }),
        await t.call('PUT', '/kv/a', { body: big, agent, chunkSize: 777 }),
        await t.call('GET', '/kv/a', { agent }),
      ];
      expect(replies.map((r) => r.status)).toEqual([200, 413, 413, 200]);
      expect(replies[3]?.text).toBe('small');
      expect(new Set(replies.map((r) => r.socket)).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

// curl sends `Expect: 100-continue` before a large body; uWS answers 100 and the 413 follows.
// curl is part of the documented test setup (README quick start, .ci/run).
it('answers 413 in the error shape to curl sending Expect: 100-continue', async () => {
  const { stdout } = await promisify(execFile)('/usr/bin/curl', [
    '-s',
    '-H',
    'Expect: 100-continue',
    '-X',
    'PUT',
    '--data-binary',
    'x'.repeat(MAX_VALUE_BYTES * 2),
    '-w',
    '\n%{http_code}',
    `${t.base}/kv/expect`,
  ]);
  const [body, status] = stdout.split('\n');
  expect(status).toBe('413');
  expect(JSON.parse(body ?? '')).toEqual({
    error: { code: 'value_too_large', message: `value is ${MAX_VALUE_BYTES * 2} bytes, over the MAX_VALUE_BYTES limit of ${MAX_VALUE_BYTES} bytes` },
  });
  expect(t.server.cache.has('expect')).toBe(false);
});
