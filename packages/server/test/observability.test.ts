/**
 * GET /health, /stats (engine stats + process memory) and /metrics
 * (Prometheus text from prom-client).
 */

import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

/** The value of one sample line in Prometheus text, e.g. `name{labels} 3`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it('GET /health answers 200 {"status":"ok"}', async () => {
  const health = await t.call('GET', '/health');
  expect(health.status).toBe(200);
  expect(health.json).toEqual({ status: 'ok' });
});

it('GET /stats reports the engine counters and process memory', async () => {
  await t.call('POST', '/put', { body: JSON.stringify({ key: 's', value: 'v' }) });
  await t.call('GET', '/get?key=s');
  await t.call('GET', '/get?key=nothing');
  const stats = await t.call('GET', '/stats');
  expect(stats.status).toBe(200);
  const body = stats.json as {
    engine: { curr_items: number; get_hits: number; get_misses: number; limit_maxkeys: number; evictions: number };
    process: { rss_bytes: number; heap_used_bytes: number; uptime_seconds: number };
  };
  expect(body.engine).toMatchObject({ curr_items: 1, get_hits: 1, get_misses: 1, limit_maxkeys: 10_000, evictions: 0 });
  expect(body.process.rss_bytes).toBeGreaterThan(0);
  expect(body.process.heap_used_bytes).toBeGreaterThan(0);
  expect(body.process.uptime_seconds).toBeGreaterThanOrEqual(0);
});

it('GET /metrics exposes engine numbers, requests by route and status, and a latency histogram', async () => {
  const before = t.server.cache.stats();
  await t.call('PUT', '/kv/m', { body: 'x' });
  await t.call('GET', '/kv/m');
  await t.call('GET', '/kv/absent');
  await t.call('GET', '/no-such-route');
  const metrics = await t.call('GET', '/metrics');
  expect(metrics.status).toBe(200);
  expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = metrics.text;
  expect(sample(text, 'slabcache_get_hits_total')).toBe(before.get_hits + 1);
  expect(sample(text, 'slabcache_get_misses_total')).toBe(before.get_misses + 1);
  expect(sample(text, 'slabcache_items')).toBe(t.server.cache.size);
  expect(sample(text, 'slabcache_bytes')).toBe(t.server.cache.stats().bytes);
  expect(sample(text, 'slabcache_evictions_total{cause="keys"}')).toBe(0);
  expect(sample(text, 'http_requests_total{route="/kv/:key",method="PUT",status="200",thread="0"}')).toBe(1);
  expect(sample(text, 'http_requests_total{route="/kv/:key",method="GET",status="200",thread="0"}')).toBe(1);
  expect(sample(text, 'http_requests_total{route="/kv/:key",method="GET",status="404",thread="0"}')).toBe(1);
  expect(sample(text, 'http_requests_total{route="unmatched",method="ANY",status="404",thread="0"}')).toBe(1);
  expect(sample(text, 'http_request_duration_seconds_count{route="/kv/:key",method="GET"}')).toBe(2);
  expect(sample(text, 'http_request_duration_seconds_bucket{le="+Inf",route="/kv/:key",method="GET"}')).toBe(2);
  expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
});

it('counts evictions when the cache is over MAX_KEYS', async () => {
  const small = await (await import('./support/server')).startTestServer({ maxKeys: 3 });
  try {
    for (let i = 0; i < 5; i++) await small.call('PUT', `/kv/e${i}`, { body: 'v' });
    const text = (await small.call('GET', '/metrics')).text;
    expect(sample(text, 'slabcache_evictions_total{cause="keys"}')).toBe(2);
    expect(sample(text, 'slabcache_items')).toBe(3);
    expect((await small.call('GET', '/kv/e0')).status).toBe(404);
    expect((await small.call('GET', '/kv/e4')).status).toBe(200);
  } finally {
    await small.stop();
  }
});

it('counts evictions when the entries would pass MAX_SIZE, and reports the bytes it bounds', async () => {
  // Each entry: a 2-byte key and a 1,000-byte value. MAX_SIZE is the least the limits allow
  // (16 + 4,000 + 128) plus 4,008: 8,152 bytes, room for 8 such entries.
  const limits = { maxKeyBytes: 16, maxValueBytes: 4000 };
  const maxSize = 16 + 4000 + 128 + 4 * 1002;
  const small = await (await import('./support/server')).startTestServer({ ...limits, maxSize });
  try {
    for (let i = 0; i < 9; i++) expect((await small.call('PUT', `/kv/s${i}`, { body: 'x'.repeat(1000) })).status).toBe(200);
    // 9,018 bytes offered, 8,152 allowed: the first is evicted.
    const text = (await small.call('GET', '/metrics')).text;
    expect(sample(text, 'slabcache_evictions_total{cause="size"}')).toBe(1);
    expect(sample(text, 'slabcache_payload_bytes')).toBe(8 * 1002);
    expect(sample(text, 'slabcache_limit_size')).toBe(maxSize);
    expect((await small.call('GET', '/kv/s0')).status).toBe(404);
    expect((await small.call('GET', '/kv/s8')).status).toBe(200);
    const stats = (await small.call('GET', '/stats')).json as { engine: { payload_bytes: number; evictions_by_cause: { size: number } } };
    expect(stats.engine).toMatchObject({ payload_bytes: 8 * 1002, evictions_by_cause: { size: 1 } });
  } finally {
    await small.stop();
  }
});
