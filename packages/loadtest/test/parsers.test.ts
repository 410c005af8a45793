/**
 * Parsers of the tools' outputs (wrk's WRK_JSON line, /proc/PID/status,
 * redis-benchmark's CSV, the locustfile's summary) and of counts on the
 * command line. Inputs are in each tool's real format.
 */

import { readFileSync } from 'node:fs';

import { parseChoiceList, parseCount } from '../src/cli-args.js';
import { parseLocustSummary } from '../src/locust.js';
import { parseProcStatus, readProcessMemory } from '../src/proc-status.js';
import { parseRedisBenchmarkCsv, redisBenchKey } from '../src/redis.js';
import { failuresOf, parseWrkOutput, progressReader } from '../src/wrk.js';

test('parseWrkOutput reads the WRK_JSON line among wrk\'s own output', () => {
  const stdout = [
    'Running 5s test @ http://127.0.0.1:18300',
    '  1 threads and 50 connections',
    'WRK_JSON {"mode":"get","duration_us":5000000,"requests":54150,"bytes":19813237,"status_2xx":54000,"status_404":100,"status_other":50,' +
      '"errors":{"connect":0,"read":2,"write":0,"status":150,"timeout":1},' +
      '"latency_us":{"min":230,"max":156779,"mean":5484.6,"stdev":6922.5,"p50":4027,"p90":7575,"p99":39948,"p999":101350}}',
    'Requests/sec:  10830.00',
  ].join('\n');
  const result = parseWrkOutput(stdout);
  expect(result.requestsPerSecond).toBeCloseTo(10_830, 6);
  expect(result.durationSeconds).toBe(5);
  expect(result.status404).toBe(100);
  expect(result.latencyUs.p99).toBe(39_948);
  expect(failuresOf(result)).toBe(53); // 50 non-2xx other than 404 + 2 read errors + 1 timeout
  expect(() => parseWrkOutput('no json here')).toThrow(/WRK_JSON/);
});

test('WRK_PROGRESS lines split across chunks add up per thread', () => {
  const seen: number[] = [];
  const read = progressReader((n) => seen.push(n));
  read('WRK_PROGRESS 0 10');
  expect(seen).toEqual([]); // no whole line yet
  read('24\nWRK_PROG');
  read('RESS 1 2048\nWRK_THREAD_DONE 0\nWRK_PROGRESS 0 3072\n');
  expect(seen).toEqual([1024, 5120]);
});

test('parseProcStatus reads VmRSS and VmHWM; readProcessMemory works on this process', () => {
  expect(parseProcStatus('Name:\tnode\nVmHWM:\t  600500 kB\nVmRSS:\t  571276 kB\n')).toEqual({ rssKiB: 571_276, hwmKiB: 600_500 });
  expect(() => parseProcStatus('Name:\tnode\n')).toThrow(/VmRSS/);
  const own = readProcessMemory(process.pid);
  expect(own.rssKiB).toBeGreaterThan(0);
  expect(own.hwmKiB).toBeGreaterThanOrEqual(own.rssKiB);
  expect(parseProcStatus(readFileSync('/proc/self/status', 'utf8')).rssKiB).toBeGreaterThan(0);
});

test('parseRedisBenchmarkCsv reads redis-benchmark --csv', () => {
  const csv = [
    '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
    '"SET","150150.16","0.220","0.064","0.215","0.303","0.367","1.127"',
    '"GET","147929.00","0.214","0.056","0.207","0.295","0.447","0.927"',
  ].join('\n');
  const tests = parseRedisBenchmarkCsv(csv);
  expect(tests.map((t) => t.test)).toEqual(['SET', 'GET']);
  expect(tests[1]?.requestsPerSecond).toBe(147_929);
  expect(tests[0]?.latencyMs.p99).toBe(0.367);
  expect(() => parseRedisBenchmarkCsv('garbage')).toThrow(/unexpected/);
});

test('redisBenchKey matches redis-benchmark\'s key:__rand_int__ (12 digits)', () => {
  expect(redisBenchKey(123)).toBe('key:000000000123');
});

test('parseLocustSummary reads the summary the locustfile writes at quit', () => {
  const summary = parseLocustSummary(
    JSON.stringify({
      exit_code: 1,
      get_404: 7,
      routes: [
        { method: 'GET', name: '/get', requests: 100, failures: 0, requests_per_second: 50, median_ms: 1, p95_ms: 3, p99_ms: 5, max_ms: 9.5 },
        { method: 'POST', name: '/put', requests: 10, failures: 2, requests_per_second: 5, median_ms: 2, p95_ms: 4, p99_ms: 6, max_ms: 8 },
      ],
      total: { method: null, name: 'Aggregated', requests: 110, failures: 2, requests_per_second: 55, median_ms: 1, p95_ms: 3, p99_ms: 5, max_ms: 9.5 },
      errors: [{ method: 'POST', name: '/put', error: 'PUT answered 413', occurrences: 2 }],
    }),
  );
  expect(summary.routes.map((r) => r.name)).toEqual(['GET /get', 'POST /put']);
  expect(summary.total).toMatchObject({ name: 'Aggregated', requests: 110, failures: 2 });
  expect(summary.getMisses).toBe(7);
  expect(summary.failureLines).toEqual(['2 × POST /put: PUT answered 413']);
});

test('parseCount understands 5M, 100k, 1_000_000 and 1e6', () => {
  expect(parseCount('5M', 'x')).toBe(5_000_000);
  expect(parseCount('100k', 'x')).toBe(100_000);
  expect(parseCount('1_000_000', 'x')).toBe(1_000_000);
  expect(parseCount('1e6', 'x')).toBe(1_000_000);
  expect(parseCount('1.5k', 'x')).toBe(1_500);
  expect(() => parseCount('lots', 'sizes')).toThrow(/--sizes/);
  expect(() => parseCount('-3', 'x')).toThrow();
  expect(parseChoiceList('get,mix', ['get', 'put', 'mix'], 'routes')).toEqual(['get', 'mix']);
  expect(() => parseChoiceList('get,post', ['get', 'put'], 'routes')).toThrow(/post/);
});
