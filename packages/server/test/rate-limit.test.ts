/**
 * Rate limiting (RATE_LIMIT, RATE_BURST, TRUST_PROXY): the token bucket itself
 * with a hand-driven clock (exact numbers), then real requests to a real
 * server: 429 with Retry-After in the JSON error shape, off by default,
 * X-Forwarded-For ignored unless trusted, a refused upload changes nothing and
 * leaves the connection usable, and the startup check on the settings.
 *
 * HTTP tests never assert timing: the bucket refills while they run, so they
 * bound what may pass by the time that actually elapsed.
 */

import http from 'node:http';

import { ConfigError, parseCommandLine } from '../src/index';
import { clientAddress, RateLimiter } from '../src/rateLimit';

import { errorOf, request } from './support/http';
import { startTestServer, type TestServer } from './support/server';

describe('RateLimiter (token bucket, fake clock)', () => {
  it('allows a burst, then refuses with the seconds until the next token, then refills', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500; // one token back at 2/s
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    now += 60_000; // a long pause refills only up to the burst
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('gives Retry-After in whole seconds, rounded up, for slow rates', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 0.1, burst: 1, now: () => now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    now += 4000;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
  });

  it('keeps one bucket per client', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, now: () => 0 });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('never holds more than maxClients buckets, dropping the least recently seen', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxClients: 100, now: () => now });
    expect(limiter.take('active').allowed).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`spray-${i}`);
      if (i % 50 === 0) limiter.take('active'); // stays recently seen, so it is never the one dropped
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
    // 'active' kept its (empty) bucket through the spray: still refused.
    expect(limiter.take('active').allowed).toBe(false);
    now += 1000;
    expect(limiter.take('active').allowed).toBe(true);
  });

  it('refuses nonsense options', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 1, maxClients: 0 })).toThrow(RangeError);
  });
});

describe('clientAddress', () => {
  it('uses the peer unless the proxy is trusted, then the last X-Forwarded-For entry', () => {
    expect(clientAddress('10.0.0.1', '1.2.3.4', false)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', undefined, true)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', 'forged, 5.6.7.8', true)).toBe('5.6.7.8');
    expect(clientAddress('10.0.0.1', ' 5.6.7.8 ', true)).toBe('5.6.7.8');
    expect(clientAddress('10.0.0.1', 'a, ', true)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', 'x'.repeat(5000), true)).toHaveLength(64);
  });
});

describe('settings', () => {
  it('are off by default and parsed from env and flags', () => {
    const defaults = parseCommandLine([], {}).config;
    expect([defaults.rateLimit, defaults.rateBurst, defaults.trustProxy]).toEqual([0, 0, false]);
    const set = parseCommandLine(['--rate-burst', '20', '--trust-proxy'], { RATE_LIMIT: '10' }).config;
    expect([set.rateLimit, set.rateBurst, set.trustProxy]).toEqual([10, 20, true]);
  });

  it('refuse RATE_BURST without RATE_LIMIT, and bad numbers, naming the setting', () => {
    expect(() => parseCommandLine([], { RATE_BURST: '5' })).toThrow(/RATE_BURST is set but RATE_LIMIT is 0/);
    expect(() => parseCommandLine([], { RATE_LIMIT: '-1' })).toThrow(ConfigError);
    expect(() => parseCommandLine([], { RATE_LIMIT: 'fast' })).toThrow(/RATE_LIMIT/);
    expect(() => parseCommandLine([], { TRUST_PROXY: 'maybe' })).toThrow(/TRUST_PROXY/);
  });
});

/** Sends `count` GETs one after another on one keep-alive connection; returns the statuses and the seconds taken. */
async function burstOf(t: TestServer, count: number, headers: Record<string, string> = {}): Promise<{ statuses: number[]; seconds: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const started = Date.now();
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await t.call('GET', '/health', { agent, headers })).status);
  agent.destroy();
  return { statuses, seconds: (Date.now() - started) / 1000 };
}

/**
 * The first 429 among up to 20 tries (a machine stalled for seconds could let a
 * refilled token through once; twenty in a row cannot happen at 1 token/s).
 */
async function firstRefusal(t: TestServer, method: string, path: string, headers: Record<string, string> = {}) {
  for (let i = 0; i < 20; i++) {
    const result = await t.call(method, path, { headers });
    if (result.status === 429) return result;
    expect(result.status).not.toBe(500);
  }
  throw new Error(`no 429 in 20 requests to ${method} ${path}`);
}

describe('over HTTP', () => {
  it('is off by default: no request is ever refused', async () => {
    const t = await startTestServer();
    try {
      const { statuses } = await burstOf(t, 300);
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      await t.stop();
    }
  });

  describe('with RATE_LIMIT=1, RATE_BURST=5', () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ rateLimit: 1, rateBurst: 5 });
    });
    afterAll(() => t.stop());

    it('lets the burst through, then answers 429 with Retry-After and the JSON error shape', async () => {
      const { statuses, seconds } = await burstOf(t, 20);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const allowed = statuses.filter((s) => s === 200).length;
      // The burst, plus at most one token per second that actually passed.
      expect(allowed).toBeLessThanOrEqual(5 + Math.ceil(seconds));
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);

      const refused = await firstRefusal(t, 'GET', '/get?key=x');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(errorOf(refused)).toEqual({ code: 'rate_limited', message: expect.stringMatching(/too many requests/) });
      // Unknown routes and wrong methods are counted too (they cost the server as much).
      expect(errorOf(await firstRefusal(t, 'GET', '/nope')).code).toBe('rate_limited');
    });

    it('ignores X-Forwarded-For when TRUST_PROXY is off: a forged address shares the peer bucket', async () => {
      await firstRefusal(t, 'GET', '/health');
      const forged = await firstRefusal(t, 'GET', '/health', { 'x-forwarded-for': '203.0.113.9' });
      expect(errorOf(forged).code).toBe('rate_limited');
    });

    it('refuses an upload without storing it, and the keep-alive connection stays usable', async () => {
      await firstRefusal(t, 'GET', '/health');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const body = Buffer.alloc(200_000, 7);
      const first = await t.call('PUT', '/kv/refused', { body, agent });
      const second = await t.call('PUT', '/kv/refused', { body, agent, chunkSize: 10_000 });
      expect([first.status, second.status]).toEqual([429, 429]);
      expect(second.socket).toBe(first.socket);
      agent.destroy();
      expect(t.server.cache.has('refused')).toBe(false);
    });

    it('counts 429s in the request metrics', async () => {
      const metrics = await request(t.base, 'GET', '/metrics');
      // /metrics itself may be refused here; read it straight from the registry instead.
      const text = metrics.status === 200 ? metrics.text : await t.server.metrics.render();
      expect(text).toMatch(/http_requests_total\{[^}]*status="429"[^}]*\} [1-9]/);
    });
  });

  it('with TRUST_PROXY, keeps one bucket per last X-Forwarded-For address', async () => {
    const t = await startTestServer({ rateLimit: 1, rateBurst: 2, trustProxy: true });
    try {
      const a = await burstOf(t, 6, { 'x-forwarded-for': '198.51.100.1' });
      const b = await burstOf(t, 6, { 'x-forwarded-for': 'forged-by-client, 198.51.100.2' });
      expect(a.statuses.slice(0, 2)).toEqual([200, 200]);
      expect(b.statuses.slice(0, 2)).toEqual([200, 200]); // its own bucket, untouched by a's
      expect(a.statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(2 + Math.ceil(a.seconds));
      expect(b.statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(2 + Math.ceil(b.seconds));
      // Changing only the forged (leftmost) part does not buy a fresh bucket.
      await firstRefusal(t, 'GET', '/health', { 'x-forwarded-for': '198.51.100.2' });
      const forgedAgain = await t.call('GET', '/health', { headers: { 'x-forwarded-for': 'another-lie, 198.51.100.2' } });
      expect(forgedAgain.status).toBe(429);
    } finally {
      await t.stop();
    }
  });
});
