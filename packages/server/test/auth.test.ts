/**
 * Issue 19: bearer-token authentication (AUTH_TOKEN, AUTH_READ_TOKEN, their
 * files, AUTH_METRICS, AUTH_FAILURE_LIMIT).
 *
 * First the pure parts: token syntax, constant-time matching, the header
 * parser, which routes need what (including routes that do not exist yet),
 * and the gate's decisions with a hand-driven clock. Then real servers on
 * 127.0.0.1 with a real HTTP client: the "done when" (a /put without
 * the token 401, with `Bearer s3cret` 200, /health 200 without it), every
 * route, read-only tokens, the failure limit, metrics, THREADS=2, token
 * files, and refused settings that never echo a token.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Request, Response } from 'hyper-express';

import { resolveAccess, type AccessSettings } from '../src/auth/access';
import { AccessGate, bearerToken, type AuthFailureReason } from '../src/auth/gate';
import { routeAccess } from '../src/auth/routeAccess';
import { MAX_TOKEN_LENGTH, parseTokens, TokenSet } from '../src/auth/tokens';
import { ConfigError, parseCommandLine } from '../src/index';
import { configFrom } from '../src/config';
import { routeTable } from '../src/routes';
import type { UwsBuild } from '../src/uws';

import { spawnCli } from './support/cli';
import { errorOf, request, type HttpResult } from './support/http';
import { startTestServer, TEST_LIMITS, type TestServer } from './support/server';

const SECRET = 's3cret';
/** A safety bound for tests that start servers (threads start from source under jest), never a verdict. */
const BOUND_MS = 60_000;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('token syntax (RFC 6750 b64token)', () => {
  it('splits lists on commas and whitespace, and files by line with # comments', () => {
    expect(parseTokens('a, b  c\n,d', 'AUTH_TOKEN')).toEqual(['a', 'b', 'c', 'd']);
    expect(parseTokens('', 'AUTH_TOKEN')).toEqual([]);
    expect(parseTokens('# rotated 2026-11\nnew-token\n  # old one:\nold.token==\n', 'FILE', { comments: true })).toEqual(['new-token', 'old.token==']);
    expect(parseTokens('A-Za-z0-9._~+/===', 'X')).toEqual(['A-Za-z0-9._~+/===']);
  });

  it('refuses a malformed token by its position, never showing it', () => {
    const attempts: Array<[string, RegExp]> = [
      ['good,bad"quote', /token 2 of AUTH_TOKEN has a character a bearer token cannot carry/],
      ['pass=word', /token 1 of AUTH_TOKEN has a character/],
      ['ünïcode', /token 1 of AUTH_TOKEN has a character/],
      ['x'.repeat(MAX_TOKEN_LENGTH + 1), new RegExp(`token 1 of AUTH_TOKEN is ${MAX_TOKEN_LENGTH + 1} characters long; the most is ${MAX_TOKEN_LENGTH}`)],
    ];
    for (const [value, message] of attempts) {
      let thrown: Error | undefined;
      try {
        parseTokens(value, 'AUTH_TOKEN');
      } catch (error) {
        thrown = error as Error;
      }
      expect(thrown?.message).toMatch(message);
      for (const token of value.split(',')) expect(thrown?.message).not.toContain(token);
    }
  });
});

describe('TokenSet.match', () => {
  const set = new TokenSet([
    { token: 'read-write-token', access: 'read-write' },
    { token: 'reader', access: 'read-only' },
    { token: 'abc', access: 'read-write' },
  ]);

  it('finds each token with its access, and nothing else', () => {
    expect(set.match('read-write-token')).toBe('read-write');
    expect(set.match('reader')).toBe('read-only');
    expect(set.match('abc')).toBe('read-write');
    for (const wrong of ['read-write-toke', 'read-write-tokenX', 'READER', 'ab', 'abcd', 'abc=', '', 'x'.repeat(MAX_TOKEN_LENGTH + 1)]) {
      expect(set.match(wrong)).toBeUndefined();
    }
  });

  it('cannot be fooled by a character whose low byte is a token\'s, or by zero padding', () => {
    // 'Ł' is U+0141: a one-byte (latin1) copy would make it 0x41, 'A'; in UTF-8 it is C5 81.
    const folding = new TokenSet([{ token: 'Abc', access: 'read-write' }]);
    expect(folding.match('Abc')).toBe('read-write');
    expect(folding.match('\u0141bc')).toBeUndefined();
    expect(folding.match('Abc\u0000')).toBeUndefined();
  });

  it('an empty set matches nothing', () => {
    expect(new TokenSet([]).match('anything')).toBeUndefined();
  });
});

describe('bearerToken (the Authorization header)', () => {
  it('takes the token of a Bearer header, the scheme in any case', () => {
    expect(bearerToken('Bearer s3cret')).toBe('s3cret');
    expect(bearerToken('bearer s3cret')).toBe('s3cret');
    expect(bearerToken('BEARER   s3cret  ')).toBe('s3cret');
  });

  it('finds none without the header, with another scheme, or with no token', () => {
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 's3cret', 'Bearer a b', 'Token s3cret']) {
      expect(bearerToken(header)).toBeUndefined();
    }
  });
});

describe('routeAccess: every route needs a token unless it is on the open list', () => {
  const needs = { metricsNeedToken: true };

  it('classifies the routes the server has today', () => {
    const uws = { build: '20.30' } as unknown as UwsBuild;
    const routes = routeTable({ cache: undefined as never, config: configFrom(), uws, startedAt: 0 });
    const table = Object.fromEntries(routes.map((r) => [`${r.method.toUpperCase()} ${r.pattern}`, routeAccess(r.method, r.pattern, needs)]));
    expect(table).toEqual({
      'PUT /put': 'write',
      'POST /put': 'write',
      'GET /get': 'read',
      'GET /kv/:key': 'read',
      'HEAD /kv/:key': 'read',
      'PUT /kv/:key': 'write',
      'DELETE /kv/:key': 'write',
      'POST /mget': 'read',
      'POST /mset': 'write',
      'POST /mdel': 'write',
      'GET /health': 'open',
      'GET /stats': 'read',
      'GET /metrics': 'read',
      'GET /dashboard': 'open',
    });
  });

  it('covers routes added later without a line in the auth code: writes by default', () => {
    expect(routeAccess('post', '/some-future-route', needs)).toBe('write');
    expect(routeAccess('put', '/some-future-route', needs)).toBe('write');
    expect(routeAccess('delete', '/some-future-route', needs)).toBe('write');
    expect(routeAccess('get', '/some-future-route', needs)).toBe('read');
  });

  it('405s and 404s need a token (a client without one learns nothing), except on open paths', () => {
    expect(routeAccess(undefined, '/kv/:key', needs)).toBe('read');
    expect(routeAccess(undefined, 'unmatched', needs)).toBe('read');
    expect(routeAccess(undefined, '/health', needs)).toBe('open');
    expect(routeAccess('post', '/health', needs)).toBe('open');
  });

  it('opens /metrics only with AUTH_METRICS=false', () => {
    expect(routeAccess('get', '/metrics', { metricsNeedToken: false })).toBe('open');
    expect(routeAccess('get', '/stats', { metricsNeedToken: false })).toBe('read');
  });
});

/** A hyper-express Request as far as the gate reads it (the token path never reads the Response). */
function fakeRequest(ip: string, headers: Record<string, string> = {}): Request {
  return { ip, headers } as unknown as Request;
}
const NO_RESPONSE = {} as Response;

function settings(overrides: Partial<AccessSettings> = {}): AccessSettings {
  return {
    tokens: [
      { token: 'writer', access: 'read-write' },
      { token: 'reader', access: 'read-only' },
    ],
    metricsNeedToken: true,
    protectedMode: false,
    failureLimitPerMinute: 3,
    trustProxy: false,
    ...overrides,
  };
}

describe('AccessGate (hand-driven clock)', () => {
  it('lets a right token through, refuses a missing or wrong one, and a read-only token on writes', () => {
    const counted: AuthFailureReason[] = [];
    const gate = new AccessGate(settings({ failureLimitPerMinute: 0 }), '0.0.0.0', (r) => counted.push(r));
    const read = gate.guardFor('read')!;
    const write = gate.guardFor('write')!;
    expect(gate.guardFor('open')).toBeUndefined();
    expect(read(fakeRequest('10.0.0.1', bearer('writer')), NO_RESPONSE)).toBeUndefined();
    expect(read(fakeRequest('10.0.0.1', bearer('reader')), NO_RESPONSE)).toBeUndefined();
    expect(write(fakeRequest('10.0.0.1', bearer('writer')), NO_RESPONSE)).toBeUndefined();
    expect(write(fakeRequest('10.0.0.1', bearer('reader')), NO_RESPONSE)?.status).toBe(403);
    expect(read(fakeRequest('10.0.0.1'), NO_RESPONSE)?.status).toBe(401);
    expect(read(fakeRequest('10.0.0.1', bearer('nope')), NO_RESPONSE)?.status).toBe(401);
    expect(counted).toEqual(['read_only_token', 'missing_token', 'invalid_token']);
  });

  it('locks an address out after AUTH_FAILURE_LIMIT failures, refusing even the right token, until it refills', () => {
    let now = 1_000_000;
    const counted: AuthFailureReason[] = [];
    const gate = new AccessGate(settings({ failureLimitPerMinute: 3 }), '0.0.0.0', (r) => counted.push(r), { now: () => now });
    const read = gate.guardFor('read')!;
    // Successes cost nothing: any number of them.
    for (let i = 0; i < 100; i++) expect(read(fakeRequest('10.0.0.1', bearer('writer')), NO_RESPONSE)).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(read(fakeRequest('10.0.0.1', bearer(`guess${i}`)), NO_RESPONSE)?.status).toBe(401);
    const locked = read(fakeRequest('10.0.0.1', bearer('writer')), NO_RESPONSE);
    expect(locked?.status).toBe(429);
    expect(locked?.headers?.['retry-after']).toBe('20'); // 3 per minute: one back every 20 s
    expect(read(fakeRequest('10.0.0.1', bearer('guess-while-locked')), NO_RESPONSE)?.status).toBe(429);
    // Another address is not affected.
    expect(read(fakeRequest('10.0.0.2', bearer('writer')), NO_RESPONSE)).toBeUndefined();
    now += 19_999;
    expect(read(fakeRequest('10.0.0.1', bearer('writer')), NO_RESPONSE)?.status).toBe(429);
    now += 1;
    expect(read(fakeRequest('10.0.0.1', bearer('writer')), NO_RESPONSE)).toBeUndefined();
    expect(counted).toEqual(['invalid_token', 'invalid_token', 'invalid_token', 'locked_out', 'locked_out', 'locked_out']);
  });

  it('with TRUST_PROXY, locks out the forwarded address, not the proxy', () => {
    const gate = new AccessGate(settings({ failureLimitPerMinute: 1, trustProxy: true }), '0.0.0.0', () => undefined, { now: () => 0 });
    const read = gate.guardFor('read')!;
    const via = (client: string, token: string) => fakeRequest('127.0.0.1', { ...bearer(token), 'x-forwarded-for': client });
    expect(read(via('198.51.100.1', 'wrong'), NO_RESPONSE)?.status).toBe(401);
    expect(read(via('198.51.100.1', 'writer'), NO_RESPONSE)?.status).toBe(429);
    expect(read(via('198.51.100.2', 'writer'), NO_RESPONSE)).toBeUndefined();
  });

  it('has no guard at all without tokens and without protected mode', () => {
    const gate = new AccessGate(settings({ tokens: [] }), '127.0.0.1', () => undefined);
    expect(gate.active).toBe(false);
    expect(gate.guardFor('read')).toBeUndefined();
    expect(gate.guardFor('write')).toBeUndefined();
  });
});

describe('settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'slabcache-auth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are off by default: no token, /metrics would need one, 30 failures a minute, protected mode on', () => {
    const config = parseCommandLine([], {}).config;
    expect(config).toMatchObject({ authToken: '', authTokenFile: '', authReadToken: '', authReadTokenFile: '', authMetrics: true, authFailureLimit: 30, protectedMode: true });
  });

  it('read tokens from variables, flags and files, with their roles', () => {
    const rw = path.join(dir, 'rw');
    const ro = path.join(dir, 'ro');
    writeFileSync(rw, '# read-write\nfrom-file-1\nfrom-file-2\n');
    writeFileSync(ro, 'reader-from-file\n');
    const { config } = parseCommandLine(['--auth-read-token', 'reader-from-flag'], { AUTH_TOKEN: 'a,b', AUTH_TOKEN_FILE: rw, AUTH_READ_TOKEN_FILE: ro });
    expect(resolveAccess(config).tokens).toEqual([
      { token: 'a', access: 'read-write' },
      { token: 'b', access: 'read-write' },
      { token: 'from-file-1', access: 'read-write' },
      { token: 'from-file-2', access: 'read-write' },
      { token: 'reader-from-flag', access: 'read-only' },
      { token: 'reader-from-file', access: 'read-only' },
    ]);
  });

  it('refuse what cannot work, without ever showing a token', () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '# nothing yet\n');
    const bad = path.join(dir, 'bad');
    writeFileSync(bad, 'fine\nnot"fine-secret\n');
    const refusals: Array<[Record<string, string>, RegExp]> = [
      [{ AUTH_TOKEN: 'ok,sec"ret' }, /invalid AUTH_TOKEN \(value not shown\): token 2 of AUTH_TOKEN has a character/],
      [{ AUTH_TOKEN_FILE: path.join(dir, 'missing') }, /AUTH_TOKEN_FILE=".*missing" cannot be read \(ENOENT\)/],
      [{ AUTH_TOKEN_FILE: empty }, /holds no token/],
      [{ AUTH_READ_TOKEN_FILE: bad }, /token 2 of AUTH_READ_TOKEN_FILE ".*bad" has a character/],
      [{ AUTH_TOKEN: 'same-secret', AUTH_READ_TOKEN: 'same-secret' }, /both as read-write .* and as read-only/],
      [{ AUTH_TOKEN: 'x-secret', PROTECTED_MODE: 'no' }, /PROTECTED_MODE=no has no effect when tokens are set/],
      [{ TLS_KEY: '/k.pem' }, /TLS_KEY is set without TLS_CERT/],
      [{ TLS_CERT: '/c.pem' }, /TLS_CERT is set without TLS_KEY/],
      [{ TLS_KEY_PASSPHRASE: 'pass-secret' }, /TLS_KEY_PASSPHRASE is set without TLS_KEY/],
    ];
    for (const [env, message] of refusals) {
      let thrown: Error | undefined;
      try {
        resolveAccess(parseCommandLine([], env).config);
      } catch (error) {
        thrown = error as Error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect(thrown?.message).toMatch(message);
      expect(thrown?.message).not.toMatch(/secret|sec"ret/);
    }
  });
});

/** Reads a counter's value from Prometheus text (0 when the series is absent). */
function counterValue(metricsText: string, name: string, labels: string): number {
  const line = metricsText.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

function expectUnauthorized(result: HttpResult, code: 'unauthorized' | 'invalid_token'): void {
  expect(result.status).toBe(401);
  expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(result.headers['www-authenticate']).toBe(code === 'unauthorized' ? 'Bearer realm="slabcache"' : 'Bearer realm="slabcache", error="invalid_token"');
  expect(errorOf(result).code).toBe(code);
}

describe('over HTTP with AUTH_TOKEN=s3cret', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ authToken: SECRET, authReadToken: 'read-only-token', authFailureLimit: 0 });
  }, BOUND_MS);
  afterAll(() => t.stop(), BOUND_MS);

  it('the issue\'s check: /put without the token 401, with "Bearer s3cret" 200, /health 200 without it', async () => {
    const body = JSON.stringify({ key: 'foo', value: 'bar' });
    const refused = await t.call('POST', '/put', { body, headers: { 'content-type': 'application/json' } });
    expectUnauthorized(refused, 'unauthorized');
    expect(errorOf(refused).message).toBe('this server needs a bearer token: send the header "Authorization: Bearer <token>" (AUTH_TOKEN)');
    expect(t.server.cache.has('foo')).toBe(false);
    const stored = await t.call('POST', '/put', { body, headers: { 'content-type': 'application/json', ...bearer(SECRET) } });
    expect([stored.status, stored.text]).toEqual([200, '{"ok":true}']);
    const health = await t.call('GET', '/health');
    expect([health.status, health.text]).toEqual([200, '{"status":"ok"}']);
    const read = await t.call('GET', '/get?key=foo', { headers: bearer(SECRET) });
    expect(read.json).toEqual({ key: 'foo', value: 'bar' });
  });

  it('every data route, /stats, /metrics, 405s and unknown paths answer 401 without a token; /health and /dashboard do not', async () => {
    await t.call('PUT', '/kv/k', { body: 'v', headers: bearer(SECRET) });
    const closed: Array<[string, string, string?]> = [
      ['PUT', '/put', '{"key":"a","value":"b"}'],
      ['POST', '/put?key=a', '{"key":"a","value":"b"}'],
      ['GET', '/get?key=k'],
      ['GET', '/kv/k'],
      ['HEAD', '/kv/k'],
      ['PUT', '/kv/k', 'new'],
      ['DELETE', '/kv/k'],
      ['GET', '/stats'],
      ['GET', '/metrics'],
      ['PATCH', '/kv/k'], // a 405 with a token
      ['GET', '/no-such-route'], // a 404 with a token
      ['POST', '/mget', '{"keys":["k"]}'],
      ['POST', '/mset', '{"entries":[{"key":"k","value":"x"}]}'],
      ['POST', '/mdel', '{"keys":["k"]}'],
    ];
    for (const [method, route, body] of closed) {
      const result = await t.call(method, route, { body });
      expect([method, route, result.status]).toEqual([method, route, 401]);
      expect(result.headers['www-authenticate']).toBe('Bearer realm="slabcache"');
      if (method !== 'HEAD') expect(errorOf(result).code).toBe('unauthorized');
    }
    expect((await t.call('GET', '/kv/k', { headers: bearer(SECRET) })).text).toBe('v'); // nothing above changed it
    expect((await t.call('GET', '/health')).status).toBe(200);
    expect((await t.call('POST', '/health')).status).toBe(405); // an open path stays open for its 405 too
    const dashboard = await t.call('GET', '/dashboard');
    expect([dashboard.status, dashboard.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect((await t.call('PATCH', '/kv/k', { headers: bearer(SECRET) })).status).toBe(405);
    expect((await t.call('GET', '/no-such-route', { headers: bearer(SECRET) })).status).toBe(404);
    expect((await t.call('GET', '/stats', { headers: bearer(SECRET) })).status).toBe(200);
    expect((await t.call('GET', '/metrics', { headers: bearer(SECRET) })).status).toBe(200);
  });

  it('refuses a wrong token, another scheme, and a token in the query string', async () => {
    expectUnauthorized(await t.call('GET', '/get?key=foo', { headers: bearer('s3cre') }), 'invalid_token');
    expectUnauthorized(await t.call('GET', '/get?key=foo', { headers: bearer('s3cretX') }), 'invalid_token');
    expectUnauthorized(await t.call('GET', '/get?key=foo', { headers: { authorization: 'Basic czNjcmV0Og==' } }), 'unauthorized');
    expectUnauthorized(await t.call('GET', `/get?key=foo&access_token=${SECRET}`), 'unauthorized');
    expect((await t.call('GET', '/get?key=foo', { headers: { authorization: `bearer ${SECRET}` } })).status).toBe(200);
  });

  it('a read-only token reads (GET, HEAD, /mget, /stats, /metrics) but cannot write: 403, nothing stored', async () => {
    const reader = bearer('read-only-token');
    expect((await t.call('GET', '/get?key=foo', { headers: reader })).status).toBe(200);
    expect((await t.call('HEAD', '/kv/nothing-here', { headers: reader })).status).toBe(404);
    expect((await t.call('GET', '/stats', { headers: reader })).status).toBe(200);
    expect((await t.call('GET', '/metrics', { headers: reader })).status).toBe(200);
    for (const [method, route, body] of [
      ['POST', '/put', '{"key":"ro","value":"x"}'],
      ['PUT', '/kv/ro', 'x'],
      ['DELETE', '/kv/foo', undefined],
    ] as const) {
      const result = await t.call(method, route, { body, headers: reader });
      expect(result.status).toBe(403);
      expect(result.headers['www-authenticate']).toBe('Bearer realm="slabcache", error="insufficient_scope"');
      expect(errorOf(result)).toEqual({ code: 'insufficient_scope', message: expect.stringMatching(/may only read/) });
    }
    expect(t.server.cache.has('ro')).toBe(false);
    expect(t.server.cache.has('foo')).toBe(true);
    // Batches: /mget reads (its keys travel in a POST body), /mset and /mdel write.
    const mget = await t.call('POST', '/mget', { body: '{"keys":["foo","absent"]}', headers: reader });
    expect([mget.status, mget.json]).toEqual([200, { values: ['bar', null] }]);
    expect((await t.call('POST', '/mset', { body: '{"entries":[{"key":"ro","value":"x"}]}', headers: reader })).status).toBe(403);
    expect((await t.call('POST', '/mdel', { body: '{"keys":["foo"]}', headers: reader })).status).toBe(403);
    expect(t.server.cache.has('ro')).toBe(false);
    expect(t.server.cache.has('foo')).toBe(true);
    const mset = await t.call('POST', '/mset', { body: '{"entries":[{"key":"rw","value":"y"}]}', headers: bearer(SECRET) });
    expect([mset.status, mset.json]).toEqual([200, { ok: true, stored: 1 }]);
  });

  it('refuses an upload without reading it, and the keep-alive connection stays usable', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = Buffer.alloc(300_000, 7);
    const first = await t.call('PUT', '/kv/upload', { body, agent });
    const second = await t.call('PUT', '/kv/upload', { body, agent, chunkSize: 10_000 });
    const third = await t.call('PUT', '/kv/upload', { body, agent, headers: bearer(SECRET) });
    expect([first.status, second.status, third.status]).toEqual([401, 401, 200]);
    expect(second.socket).toBe(first.socket);
    expect(third.socket).toBe(first.socket);
    agent.destroy();
  });

  it('counts refusals by reason in slabcache_auth_failures_total and by status in http_requests_total', async () => {
    const before = await t.call('GET', '/metrics', { headers: bearer(SECRET) });
    const count = (text: string, reason: string) => counterValue(text, 'slabcache_auth_failures_total', `reason="${reason}"`);
    await t.call('GET', '/get?key=a');
    await t.call('GET', '/get?key=a');
    await t.call('GET', '/get?key=a', { headers: bearer('wrong') });
    await t.call('DELETE', '/kv/a', { headers: bearer('read-only-token') });
    const after = await t.call('GET', '/metrics', { headers: bearer(SECRET) });
    expect(count(after.text, 'missing_token') - count(before.text, 'missing_token')).toBe(2);
    expect(count(after.text, 'invalid_token') - count(before.text, 'invalid_token')).toBe(1);
    expect(count(after.text, 'read_only_token') - count(before.text, 'read_only_token')).toBe(1);
    expect(count(after.text, 'protected_mode')).toBe(0);
    const getLabels = 'route="/get",method="GET",status="401",thread="0"';
    expect(counterValue(after.text, 'http_requests_total', getLabels) - counterValue(before.text, 'http_requests_total', getLabels)).toBe(3);
    expect(counterValue(after.text, 'http_requests_total', 'route="/kv/:key",method="DELETE",status="403",thread="0"')).toBeGreaterThanOrEqual(1);
  });
});

describe('AUTH_METRICS=false', () => {
  it('leaves /metrics open and everything else closed', async () => {
    const t = await startTestServer({ authToken: SECRET, authMetrics: false });
    try {
      expect((await t.call('GET', '/metrics')).status).toBe(200);
      expect((await t.call('GET', '/stats')).status).toBe(401);
      expect((await t.call('GET', '/get?key=a')).status).toBe(401);
    } finally {
      await t.stop();
    }
  }, BOUND_MS);
});

describe('AUTH_FAILURE_LIMIT over HTTP', () => {
  it('answers 429 with Retry-After once an address has failed too often, even with the right token', async () => {
    // 2 failures a minute: one comes back every 30 s, far longer than this test takes.
    const t = await startTestServer({ authToken: SECRET, authFailureLimit: 2 });
    try {
      const started = Date.now();
      expect((await t.call('GET', '/get?key=a', { headers: bearer('guess-1') })).status).toBe(401);
      expect((await t.call('GET', '/get?key=a', { headers: bearer('guess-2') })).status).toBe(401);
      const locked = await t.call('GET', '/get?key=a', { headers: bearer(SECRET) });
      const elapsedSeconds = (Date.now() - started) / 1000;
      // The verdict holds unless the machine stalled for 30 s between the requests: then a token is back.
      if (elapsedSeconds < 30) {
        expect(locked.status).toBe(429);
        expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(errorOf(locked)).toEqual({ code: 'rate_limited', message: expect.stringMatching(/too many failed authentications from this address/) });
        expect((await t.call('GET', '/health')).status).toBe(200); // open routes are never locked
        const metrics = await t.server.metrics.render();
        expect(counterValue(metrics, 'slabcache_auth_failures_total', 'reason="locked_out"')).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await t.stop();
    }
  }, BOUND_MS);
});

describe('THREADS=2 with tokens', () => {
  it('every thread enforces the same tokens, and the refusals of all threads are counted', async () => {
    const t = await startTestServer({ authToken: SECRET, threads: 2, authFailureLimit: 0 });
    try {
      // Fresh connections, so the kernel spreads them over both threads.
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) {
        statuses.push((await t.call('PUT', `/kv/t${i}`, { body: 'x' })).status);
        statuses.push((await t.call('PUT', `/kv/t${i}`, { body: 'x', headers: bearer(SECRET) })).status);
      }
      expect(statuses).toEqual(Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? 401 : 200)));
      const stats = (await t.call('GET', '/stats', { headers: bearer(SECRET) })).json as { threads: Array<{ requests: number }> };
      // 33 fresh connections all landing on one thread has a chance of 2^-32 (SO_REUSEPORT hashes each).
      expect(stats.threads.map((thread) => thread.requests > 0)).toEqual([true, true]);
      const metrics = await request(t.base, 'GET', '/metrics', { headers: bearer(SECRET) });
      expect(counterValue(metrics.text, 'slabcache_auth_failures_total', 'reason="missing_token"')).toBe(16);
    } finally {
      await t.stop();
    }
  }, BOUND_MS);
});

it('an embedding program gets the same checks: createServer refuses a token it cannot use', async () => {
  await expect(startTestServer({ ...TEST_LIMITS, authToken: 'bad token"' })).rejects.toThrow(/invalid option authToken \(value not shown\)/);
});

describe('tokens never appear in logs', () => {
  it('the CLI at LOG_LEVEL=trace with LOG_REQUESTS, THREADS=2, right and wrong tokens, then a refused setting', async () => {
    const writer = randomBytes(24).toString('hex');
    const reader = randomBytes(24).toString('base64url');
    const guess = `guess-${randomBytes(12).toString('hex')}`;
    const cli = spawnCli([], { AUTH_TOKEN: writer, AUTH_READ_TOKEN: reader, LOG_LEVEL: 'trace', LOG_REQUESTS: 'true', THREADS: '2' });
    const port = await cli.listening();
    const base = `http://127.0.0.1:${port}`;
    expect((await request(base, 'POST', '/put', { body: '{"key":"k","value":"v"}', headers: bearer(writer) })).status).toBe(200);
    expect((await request(base, 'GET', '/get?key=k', { headers: bearer(reader) })).status).toBe(200);
    expect((await request(base, 'DELETE', '/kv/k', { headers: bearer(reader) })).status).toBe(403);
    expect((await request(base, 'GET', '/get?key=k', { headers: bearer(guess) })).status).toBe(401);
    expect((await request(base, 'GET', '/get?key=k', { headers: { authorization: `Basic ${guess}` } })).status).toBe(401);
    cli.child.kill('SIGTERM');
    expect(await cli.exited()).toBe(0);
    const output = JSON.stringify(cli.logs) + cli.stderr();
    expect(cli.logs.filter((l) => l['msg'] === 'request').length).toBeGreaterThanOrEqual(5); // the requests were logged...
    expect(String((cli.logs.find((l) => l['msg'] === 'listening') as Record<string, unknown>)['access'])).toBe('bearer tokens (1 read-write, 1 read-only)');
    for (const secret of [writer, reader, guess]) expect(output).not.toContain(secret); // ...without any token

    const refused = spawnCli([], { AUTH_TOKEN: `${writer},${reader}"` });
    expect(await refused.exited()).toBe(2);
    expect(refused.stderr()).toMatch(/invalid AUTH_TOKEN \(value not shown\): token 2 of AUTH_TOKEN has a character/);
    expect(refused.stderr() + JSON.stringify(refused.logs)).not.toMatch(new RegExp(`${writer}|${reader}`));
  }, BOUND_MS);
});
