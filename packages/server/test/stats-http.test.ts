/**
 * The `http` section of GET /stats (what the dashboard draws requests/s and
 * latency from): requests by route and status, latency buckets and p50/p99
 * since start, summed over threads; routes with no request left out. The
 * fields before it are unchanged (observability.test.ts).
 */

import { histogramQuantile } from '../src/histogram';

import { startTestServer, type TestServer } from './support/server';

interface HttpStats {
  latency_bounds_ms: number[];
  routes: Array<{
    route: string;
    method: string;
    requests: number;
    statuses: Record<string, number>;
    latency: { sum_ms: number; p50_ms: number | null; p99_ms: number | null; buckets: number[] };
  }>;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

it('counts requests by route, method and status, and keeps latency buckets whose quantiles it reports', async () => {
  for (let i = 0; i < 5; i++) await t.call('POST', '/put', { body: JSON.stringify({ key: `h${i}`, value: 'v' }) });
  await t.call('POST', '/put', { body: 'not json' });
  for (let i = 0; i < 7; i++) await t.call('GET', `/get?key=h${i}`); // 5 hits, 2 misses
  await t.call('DELETE', '/put');
  await t.call('GET', '/nowhere');

  const http = ((await t.call('GET', '/stats')).json as { http: HttpStats }).http;
  expect(http.latency_bounds_ms).toEqual([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000]);
  const route = (method: string, pattern: string) => http.routes.find((r) => r.method === method && r.route === pattern);
  expect(route('POST', '/put')).toMatchObject({ requests: 6, statuses: { '200': 5, '400': 1 } });
  expect(route('GET', '/get')).toMatchObject({ requests: 7, statuses: { '200': 5, '404': 2 } });
  expect(route('OTHER', '/put')).toMatchObject({ requests: 1, statuses: { '405': 1 } });
  expect(route('ANY', 'unmatched')).toMatchObject({ requests: 1, statuses: { '404': 1 } });
  // This /stats request is answered after the numbers are read.
  expect(route('GET', '/stats')).toBeUndefined();
  expect(route('PUT', '/kv/:key')).toBeUndefined();

  for (const r of http.routes) {
    const { buckets, p50_ms, p99_ms, sum_ms } = r.latency;
    expect(buckets).toHaveLength(http.latency_bounds_ms.length + 1);
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(r.requests);
    // Reported in milliseconds rounded to the microsecond.
    const micros = (q: number): number => Math.round((histogramQuantile(q, http.latency_bounds_ms, buckets) as number) * 1000) / 1000;
    expect(p50_ms).toBe(micros(0.5));
    expect(p99_ms).toBe(micros(0.99));
    expect(p50_ms as number).toBeLessThanOrEqual(p99_ms as number);
    expect(sum_ms).toBeGreaterThan(0);
  }
}, 30_000);

it('agrees with /metrics on the request counts', async () => {
  const http = ((await t.call('GET', '/stats')).json as { http: HttpStats }).http;
  const metrics = (await t.call('GET', '/metrics')).text;
  // (/stats and /metrics count each other's request in between.)
  const compared = http.routes.filter((r) => r.route !== '/stats' && r.route !== '/metrics');
  expect(compared.length).toBeGreaterThanOrEqual(4);
  for (const r of compared) {
    for (const [status, count] of Object.entries(r.statuses)) {
      const series = `http_requests_total{route="${r.route}",method="${r.method}",status="${status}",thread="0"} ${count}`;
      expect(metrics).toContain(series);
    }
  }
});
