/**
 * deploy/grafana/slabcache.json, the Grafana board for /metrics: every PromQL
 * expression in it must name only metrics that a real running server exports.
 * The server runs with snapshots on (saved every second) and sees hits,
 * misses, errors and evictions, so every series the board reads has samples;
 * the names come from scraping its /metrics.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { metricNamesIn, sampleNamesIn } from './support/promql';
import { startTestServer, type TestServer } from './support/server';

const BOARD_PATH = path.resolve(__dirname, '../../../deploy/grafana/slabcache.json');

interface Target {
  readonly expr?: string;
  readonly refId: string;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: Target[];
  readonly panels?: Panel[];
}
interface Board {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: Panel[];
  readonly templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}

const board = JSON.parse(readFileSync(BOARD_PATH, 'utf8')) as Board;
const allPanels = board.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = allPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));

describe('the PromQL reader', () => {
  it('finds metric names and nothing else', () => {
    expect(metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!~"/stats|/x", instance=~"$instance"}[$__rate_interval])))')).toEqual([
      'http_request_duration_seconds_bucket',
    ]);
    expect(metricNamesIn('time() - slabcache_snapshot_last_save_timestamp_seconds{instance=~"$instance"}')).toEqual([
      'slabcache_snapshot_last_save_timestamp_seconds',
    ]);
    expect(metricNamesIn('sum(a_total) / on(instance) group_left(x) b_total offset 5m > bool 1e3')).toEqual(['a_total', 'b_total']);
    expect(metricNamesIn('sum without (thread) (rate(c_total[5m:1m])) or vector(0)')).toEqual(['c_total']);
  });
});

describe('deploy/grafana/slabcache.json', () => {
  let t: TestServer;
  let dir: string;
  let exported: Set<string>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'slabcache-grafana-'));
    t = await startTestServer({ maxKeys: 20, snapshotPath: path.join(dir, 'cache.snap'), snapshotIntervalSeconds: 1 });
    for (let i = 0; i < 30; i++) await t.call('PUT', `/kv/g${i}`, { body: 'v'.repeat(i) }); // 10 evictions
    await t.call('GET', '/kv/g29');
    await t.call('GET', '/kv/g0');
    await t.call('GET', '/get?key=g29');
    await t.call('POST', '/put', { body: '{' });
    // Wait (bounded) for the first periodic save, so the snapshot save series exist.
    const snapshots = t.server.snapshots;
    if (!snapshots) throw new Error('snapshots are off');
    for (let i = 0; snapshots.status().saves_ok < 1; i++) {
      if (i > 600) throw new Error('no snapshot save within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    exported = sampleNamesIn((await t.call('GET', '/metrics')).text);
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every expression names only metrics the server exports', () => {
    expect(queries.length).toBeGreaterThanOrEqual(25);
    const unknown = queries.flatMap(({ panel, expr }) => metricNamesIn(expr).filter((name) => !exported.has(name)).map((name) => `${panel}: ${name}`));
    expect(unknown).toEqual([]);
    // The check itself can fail: a name the server does not export is caught.
    expect(metricNamesIn('rate(slabcache_no_such_metric_total[5m])').filter((name) => !exported.has(name))).toEqual(['slabcache_no_such_metric_total']);
  });

  it('the instance variable reads a metric the server exports', () => {
    const instance = board.templating.list.find((v) => v.name === 'instance');
    const query = typeof instance?.query === 'string' ? instance.query : instance?.query?.query;
    const metric = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*instance\s*\)$/.exec(query ?? '')?.[1];
    expect(metric).toBeDefined();
    expect(exported.has(metric as string)).toBe(true);
  });

  it('has a panel for each thing the /dashboard page shows', () => {
    const reads = (pattern: RegExp) => queries.filter(({ expr }) => pattern.test(expr)).map(({ panel }) => panel);
    expect(reads(/slabcache_get_hits_total[\s\S]*slabcache_get_misses_total/).length).toBeGreaterThan(0); // hit ratio
    expect(reads(/by \(route, method, status\) \(rate\(http_requests_total/).length).toBeGreaterThan(0);
    expect(reads(/histogram_quantile\(0\.5,/).length).toBeGreaterThan(0);
    expect(reads(/histogram_quantile\(0\.99,/).length).toBeGreaterThan(0);
    expect(reads(/slabcache_items[\s\S]*slabcache_limit_items/).length).toBeGreaterThan(0);
    expect(reads(/slabcache_limit_bytes/).length).toBeGreaterThan(0);
    expect(reads(/by \(chunk_size\) \(slabcache_class_slab_bytes/).length).toBeGreaterThan(0);
    expect(reads(/by \(cause\) \(rate\(slabcache_evictions_total/).length).toBeGreaterThan(0);
    expect(reads(/by \(thread\) \(rate\(http_requests_total/).length).toBeGreaterThan(0);
    expect(reads(/slabcache_snapshot_/).length).toBeGreaterThanOrEqual(4);
  });

  it('is a well-formed board: unique panel ids, panels inside the 24-column grid, every query on the datasource variable', () => {
    expect(board.uid).toBe('slabcache');
    expect(board.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = allPanels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of allPanels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const target of p.targets ?? []) expect(target.expr).toMatch(/instance=~"\$instance"/);
    }
  });
});
