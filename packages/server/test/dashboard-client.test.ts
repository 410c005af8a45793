/**
 * The dashboard page's pure helpers (src/dashboard/clientLib.ts), run as the
 * browser would run them: the page's script text evaluated in a fresh
 * node:vm context. The quantile is checked against the server's own
 * histogramQuantile on seeded random histograms, so the page's windowed p99
 * and /stats's p99 mean the same thing.
 */

import { runInNewContext } from 'node:vm';

import { CLIENT_LIB } from '../src/dashboard/clientLib';
import { histogramQuantile } from '../src/histogram';

interface Lib {
  quantile(q: number, bounds: number[], counts: number[]): number | null;
  derive(prev: unknown, cur: unknown, seconds: number): Derived;
  format: Record<'integer' | 'bytes' | 'rate' | 'percent' | 'ms' | 'duration', (n: number | null) => string>;
  niceMax(max: number): number;
  parseFragment(hash: string): { token: string | null; interval: number | null };
  refusal(status: number, text: string): string;
}

interface Derived {
  hitsPerSecond: number | null;
  missesPerSecond: number | null;
  hitRatio: number | null;
  hitRatioWindow: number | null;
  requestsPerSecond: number | null;
  requests: Array<{ route: string; method: string; status: string; total: number; perSecond: number | null }>;
  latencyWindow: { p50: number | null; p99: number | null };
  evictionsPerSecond: { keys: number | null; bytes: number | null; size: number | null };
  threads: Array<{ id: number; requests: number; perSecond: number | null }>;
  classes: Array<{ chunkSize: number; slabBytes: number; usedBytes: number; items: number }>;
}

const lib = runInNewContext(`${CLIENT_LIB}; SlabcacheDashboardLib`, {}) as Lib;

/** A small seeded PRNG (mulberry32): the same histograms on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

it('estimates quantiles exactly as the server does (1,000 seeded random histograms)', () => {
  const next = random(20);
  const bounds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];
  let checked = 0;
  for (let i = 0; i < 1000; i++) {
    const counts = bounds.map(() => (next() < 0.4 ? 0 : Math.floor(next() * 1000))).concat([next() < 0.8 ? 0 : 5]);
    for (const q of [0, 0.5, 0.9, 0.99, 1, next()]) {
      const page = lib.quantile(q, bounds, counts);
      const server = histogramQuantile(q, bounds, counts);
      if (page !== server) throw new Error(`q=${q} counts=${JSON.stringify(counts)}: page ${page}, server ${server}`);
      checked += 1;
    }
  }
  expect(checked).toBe(6000);
}, 60_000);

/** A /stats reply with the fields the page reads. */
function stats(over: { pid?: number; hits: number; misses: number; evictKeys?: number; evictSize?: number; get200?: number; get404?: number; buckets?: number[]; threads?: number[] }) {
  const buckets = over.buckets ?? [0, 0, 0];
  return {
    engine: {
      get_hits: over.hits,
      get_misses: over.misses,
      evictions_by_cause: { keys: over.evictKeys ?? 0, bytes: 0, size: over.evictSize ?? 0 },
      page_size: 1_048_576,
      classes: [
        { chunk_size: 96, total_pages: 2, used_chunks: 10, mem_requested: 900, evictions: 0 },
        { chunk_size: 128, total_pages: 0, used_chunks: 0, mem_requested: 0, evictions: 0 },
      ],
    },
    http: {
      latency_bounds_ms: [0.1, 1],
      routes: [
        {
          route: '/get',
          method: 'GET',
          requests: (over.get200 ?? 0) + (over.get404 ?? 0),
          statuses: { '200': over.get200 ?? 0, '404': over.get404 ?? 0 },
          latency: { buckets },
        },
        // The dashboard's own polling: counted as a request, left out of the data-path latency.
        { route: '/stats', method: 'GET', requests: 1, statuses: { '200': 1 }, latency: { buckets: [0, 0, 1000] } },
      ],
    },
    threads: (over.threads ?? [0]).map((requests, id) => ({ id, requests })),
    process: { pid: over.pid ?? 1 },
  };
}

it('turns two /stats replies into rates, ratios and windowed latency', () => {
  const prev = stats({ hits: 100, misses: 50, evictKeys: 7, evictSize: 3, get200: 100, get404: 50, buckets: [100, 50, 0], threads: [10, 20] });
  const cur = stats({ hits: 180, misses: 70, evictKeys: 27, evictSize: 9, get200: 180, get404: 70, buckets: [100, 150, 0], threads: [110, 40] });
  const v = lib.derive(prev, cur, 2);
  expect(v.hitsPerSecond).toBe(40);
  expect(v.missesPerSecond).toBe(10);
  expect(v.hitRatio).toBeCloseTo(180 / 250, 12);
  expect(v.hitRatioWindow).toBeCloseTo(0.8, 12);
  expect(v.requests.find((r) => r.route === '/get' && r.status === '404')).toMatchObject({ total: 70, perSecond: 10 });
  expect(v.requestsPerSecond).toBe(50); // /get 40 + 10; /stats did not move
  // In the window all 100 /get requests fell in (0.1, 1] ms: the median is halfway, at 0.55 ms.
  // /stats's slow bucket is not data-path latency and must not pull p99 to 1 ms.
  expect(v.latencyWindow.p50).toBeCloseTo(0.55, 12);
  expect(v.latencyWindow.p99).toBeCloseTo(0.991, 12);
  expect(v.evictionsPerSecond).toEqual({ keys: 10, bytes: 0, size: 3 });
  expect(v.threads).toEqual([
    { id: 0, requests: 110, perSecond: 50 },
    { id: 1, requests: 40, perSecond: 10 },
  ]);
  expect(v.classes).toEqual([{ chunkSize: 96, slabBytes: 2 * 1_048_576, usedBytes: 960, requestedBytes: 900, items: 10, evictions: 0 }]);
});

it('has no rates on the first reply, nor across a restart of the server', () => {
  const first = lib.derive(null, stats({ hits: 5, misses: 5 }), 0);
  expect(first.hitsPerSecond).toBeNull();
  expect(first.requestsPerSecond).toBeNull();
  expect(first.hitRatio).toBe(0.5);
  expect(first.latencyWindow.p99).toBeNull();

  const before = stats({ pid: 1, hits: 500, misses: 5 });
  expect(lib.derive(before, stats({ pid: 2, hits: 900, misses: 5 }), 1).hitsPerSecond).toBeNull(); // another process
  expect(lib.derive(before, stats({ pid: 1, hits: 3, misses: 5 }), 1).hitsPerSecond).toBeNull(); // counters went back
});

it('formats numbers for people', () => {
  expect(lib.format.integer(1234567)).toBe('1,234,567');
  expect(lib.format.bytes(512)).toBe('512 B');
  expect(lib.format.bytes(1536)).toBe('1.50 KiB');
  expect(lib.format.bytes(1.5 * 1024 ** 3)).toBe('1.50 GiB');
  expect(lib.format.rate(null)).toBe('\u2013');
  expect(lib.format.rate(12345.6)).toBe('12,346');
  expect(lib.format.percent(0.9312)).toBe('93.1 %');
  expect(lib.format.ms(0.0421)).toBe('0.042 ms');
  expect(lib.format.duration(120)).toBe('2 min');
  expect(lib.format.duration(3725)).toBe('1 h 2 min');
  expect([0, 0.3, 7, 10, 11, 4200].map(lib.niceMax)).toEqual([1, 0.5, 10, 10, 20, 5000]);
});

it('reads the token and the polling interval from the URL fragment', () => {
  expect(lib.parseFragment('#token=s3cret')).toEqual({ token: 's3cret', interval: null });
  expect(lib.parseFragment('#interval=5&token=a%2Bb%3D')).toEqual({ token: 'a+b=', interval: 5 });
  expect(lib.parseFragment('#interval=0.1')).toEqual({ token: null, interval: 0.5 });
  expect(lib.parseFragment('#token=&interval=x')).toEqual({ token: null, interval: null });
  expect(lib.parseFragment('#token=%E0%A4%A')).toEqual({ token: null, interval: null }); // a bad escape is ignored
  expect(lib.parseFragment('')).toEqual({ token: null, interval: null });
});

describe('refusal (what the page says when /stats fails)', () => {
  it("shows the server's own message when the reply has the JSON error shape", () => {
    const body = '{"error":{"code":"protected_mode","message":"protected mode: this server has no AUTH_TOKEN"}}';
    expect(lib.refusal(403, body)).toBe('/stats answered 403: protected mode: this server has no AUTH_TOKEN');
    expect(lib.refusal(502, '<html>Bad Gateway</html>')).toBe('/stats answered 502');
    expect(lib.refusal(500, '{"unexpected":true}')).toBe('/stats answered 500');
  });
});
