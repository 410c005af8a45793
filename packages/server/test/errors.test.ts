/**
 * Every client error answers in the one JSON error shape, with the right
 * status, and leaves the cache exactly as it was; a 500 never leaks internals.
 */

import { errorOf, type HttpResult } from './support/http';
import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.call('POST', '/put', { body: JSON.stringify({ key: 'k', value: 'original' }) });
});
afterAll(() => t.stop());

/** The parts of the engine state a write would change. */
function snapshot() {
  const s = t.server.cache.stats();
  return { items: s.curr_items, bytes: s.bytes, stored: s.total_items, k: t.server.cache.peek('k') };
}

function expectError(result: HttpResult, status: number, code: string): string {
  expect({ status: result.status, code: errorOf(result).code }).toEqual({ status, code });
  expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
  return errorOf(result).message;
}

const post = (body: string | Buffer) => t.call('POST', '/put', { body, headers: { 'content-type': 'application/json' } });

describe('400 Bad Request', () => {
  const cases: Array<[string, string | Buffer, string]> = [
    ['malformed JSON', '{"key":"k","value":', 'invalid_json'],
    ['an empty body', '', 'invalid_json'],
    ['invalid UTF-8 inside a JSON string', Buffer.concat([Buffer.from('{"key":"k","value":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'invalid_utf8'],
    ['a missing key', '{"value":"v"}', 'missing_key'],
    ['a missing value', '{"key":"k"}', 'invalid_body'],
    ['a number as value', '{"key":"k","value":42}', 'invalid_body'],
    ['null as key', '{"key":null,"value":"v"}', 'invalid_body'],
    ['an object as value', '{"key":"k","value":{"nested":true}}', 'invalid_body'],
    ['an empty key', '{"key":"","value":"v"}', 'empty_key'],
    ['an array body', '[{"key":"k","value":"v"}]', 'invalid_body'],
    ['a JSON string body', '"k=v"', 'invalid_body'],
  ];
  it.each(cases)('POST /put with %s changes nothing', async (_what, body, code) => {
    const before = snapshot();
    expectError(await post(body), 400, code);
    expect(snapshot()).toEqual(before);
  });

  it('GET /get without a key, with an empty key, or with the key repeated', async () => {
    expectError(await t.call('GET', '/get'), 400, 'missing_key');
    // Issue 17: a parameter the route does not take is refused, not ignored.
    expect(expectError(await t.call('GET', '/get?other=1'), 400, 'unknown_parameter')).toBe('unknown query parameter "other": /get takes only ?key=');
    expectError(await t.call('GET', '/get?key='), 400, 'empty_key');
    const repeated = expectError(await t.call('GET', '/get?key=a&key=b'), 400, 'repeated_key');
    expect(repeated).toMatch(/once/);
  });
});

describe('404 and 405', () => {
  it('answers 404 for unknown routes', async () => {
    for (const path of ['/', '/nope', '/kv', '/kv/a/b', '/get/extra']) {
      expectError(await t.call('GET', path), 404, 'route_not_found');
    }
  });

  it('answers 405 with Allow for a known path and another method, changing nothing', async () => {
    const expectations: Array<[string, string, string]> = [
      ['DELETE', '/put', 'PUT, POST'],
      ['GET', '/put', 'PUT, POST'],
      ['POST', '/get?key=k', 'GET'],
      ['DELETE', '/get?key=k', 'GET'],
      ['POST', '/kv/k', 'GET, HEAD, PUT, DELETE'],
      ['PATCH', '/kv/k', 'GET, HEAD, PUT, DELETE'],
      ['POST', '/health', 'GET'],
      ['PUT', '/stats', 'GET'],
      ['DELETE', '/metrics', 'GET'],
    ];
    const before = snapshot();
    for (const [method, path, allow] of expectations) {
      const result = await t.call(method, path, { body: method === 'GET' ? undefined : 'x' });
      expectError(result, 405, 'method_not_allowed');
      expect(result.headers['allow']).toBe(allow);
    }
    expect(snapshot()).toEqual(before);
  });
});

describe('500', () => {
  it('answers an internal failure with a generic message and no stack trace', async () => {
    const spy = jest.spyOn(t.server.cache, 'getEntry').mockImplementation(() => {
      throw new Error('secret internal detail at /work/main/packages/engine/src/cache.ts:42');
    });
    try {
      const result = await t.call('GET', '/get?key=k');
      expect(expectError(result, 500, 'internal_error')).toBe('internal server error');
      expect(result.text).not.toMatch(/secret|cache\.ts|\bat\b/);
    } finally {
      spy.mockRestore();
    }
    // The server keeps serving after it.
    expect((await t.call('GET', '/get?key=k')).json).toEqual({ key: 'k', value: 'original' });
  });
});
