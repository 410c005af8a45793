/**
 * The report's three charts, built from a results file: requests/s by server
 * and route, p99 latency by server and route, and resident memory at N keys.
 * Each is a BarChart (svg.ts); this module only chooses what goes in them.
 */

import type { LoadtestResults, Route } from '../results.js';
import { compactNumber, renderBarChart, type BarChart, type BarGroup } from './svg.js';
import { summarizeHttp } from './summary.js';

export const SERIES = [
  { key: 'ours', label: 'slabcache (ours)', color: '#2b6cb0' },
  { key: 'baseline', label: 'Express + lru-cache (baseline)', color: '#dd8a2e' },
  { key: 'redis', label: 'redis-server (native reference, RESP)', color: '#8a8a8a' },
] as const;

const ROUTE_LABELS: Record<Route, string> = { get: 'GET', put: 'PUT', mix: '90/10 mix' };
/** The redis-benchmark test that stands beside each HTTP route. */
const REDIS_TEST_FOR: Partial<Record<Route, string>> = { get: 'GET', put: 'SET' };

export function keysLabel(keys: number): string {
  return `${compactNumber(keys)} keys`;
}

export interface ChartFile {
  file: string;
  title: string;
  svg: string;
}

export function buildCharts(results: LoadtestResults): ChartFile[] {
  const charts: ChartFile[] = [];
  const http = results.http;
  const redisAt = (keys: number) => results.redis?.find((r) => r.keys === keys);

  if (http) {
    const summary = summarizeHttp(http);
    const throughputGroups: BarGroup[] = [];
    const p99Groups: BarGroup[] = [];
    for (const row of summary.rows) {
      const label = `${ROUTE_LABELS[row.route]}\n${keysLabel(row.keys)}`;
      const redisTest = REDIS_TEST_FOR[row.route];
      const redis = redisTest ? redisAt(row.keys)?.tests.find((t) => t.test === redisTest) : undefined;
      throughputGroups.push({
        label,
        values: { ours: row.ours?.requestsPerSecond, baseline: row.baseline?.requestsPerSecond, redis: redis?.requestsPerSecond },
      });
      p99Groups.push({
        label,
        values: {
          ours: row.ours ? row.ours.p99Us / 1000 : undefined,
          baseline: row.baseline ? row.baseline.p99Us / 1000 : undefined,
          redis: redis?.latencyMs.p99,
        },
      });
    }
    const throughput: BarChart = {
      title: 'Requests per second (median of rounds; higher is better)',
      unit: 'requests/s',
      series: SERIES,
      groups: throughputGroups,
    };
    const p99: BarChart = {
      title: 'p99 latency (median of rounds; lower is better)',
      unit: 'ms',
      series: SERIES,
      groups: p99Groups,
      format: (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(2).replace(/\.?0+$/, '')),
    };
    charts.push({ file: 'requests-per-second.svg', title: throughput.title, svg: renderBarChart(throughput) });
    charts.push({ file: 'p99-latency.svg', title: p99.title, svg: renderBarChart(p99) });

    const memoryGroups: BarGroup[] = http.config.sizes.map((keys) => {
      const at = (server: 'ours' | 'baseline') => summary.memory.find((m) => m.keys === keys && m.server === server)?.memory.rssKiB;
      const redis = redisAt(keys)?.memory.rssKiB;
      const mib = (kib: number | undefined) => (kib === undefined ? undefined : kib / 1024);
      return { label: keysLabel(keys), values: { ours: mib(at('ours')), baseline: mib(at('baseline')), redis: mib(redis) } };
    });
    const memory: BarChart = {
      title: 'Resident memory (RSS) after filling N keys through the API (lower is better)',
      unit: 'MiB',
      series: SERIES,
      groups: memoryGroups,
      format: (v) => v.toFixed(0),
    };
    charts.push({ file: 'memory.svg', title: memory.title, svg: renderBarChart(memory) });
  }
  return charts;
}
