/**
 * A small, hand-made results file for the report tests: two rounds of GET at
 * one pool size for both servers, a fill each, a redis run and a micro suite,
 * with numbers chosen so that every summary value can be worked out by hand.
 */

import type { HttpRun, LoadtestResults } from '../../src/results.js';

export function run(server: 'ours' | 'baseline', round: number, rps: number, p99Us: number, extra: Partial<HttpRun> = {}): HttpRun {
  return {
    server,
    route: 'get',
    keys: 1_000_000,
    round,
    requestsPerSecond: rps,
    requests: rps * 8,
    durationSeconds: 8,
    latencyUs: { min: 50, mean: 500, stdev: 100, p50: p99Us / 4, p90: p99Us / 2, p99: p99Us, p999: p99Us * 2, max: p99Us * 3 },
    status404: 0,
    statusOther: 0,
    socketErrors: 0,
    memoryBefore: { rssKiB: 100_000, hwmKiB: 100_000 },
    memoryAfter: { rssKiB: 100_000, hwmKiB: 100_000 },
    gc: { count: 10, totalMs: 80, maxPauseMs: 0 },
    ...extra,
  };
}

export function fixtureResults(kind = 'full'): LoadtestResults {
  return {
    kind,
    command: 'report --preset full',
    startedAt: '2026-11-25T18:00:00.000Z',
    finishedAt: '2026-11-25T18:15:00.000Z',
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryGiB: 24,
      freeMemoryGiB: 20,
      kernel: '6.1',
      node: 'v20.20.2',
      loadAverage: [0.1, 0.2, 0.3],
      tools: { wrk: 'wrk 4.1.0', redis: 'Redis 7.0.15', locust: 'python3-locust 2.12.1-1' },
    },
    http: {
      config: {
        servers: ['ours', 'baseline'],
        sizes: [1_000_000],
        rounds: 2,
        durationSeconds: 8,
        routes: ['get'],
        threads: 1,
        connections: 50,
        valueBytes: 100,
        putPercentInMix: 10,
        maxKeys: 5_000_000,
        maxBytes: 1_610_612_736,
        ourThreads: 2,
      },
      idleMemory: {
        ours: { rssKiB: 60 * 1024, hwmKiB: 60 * 1024 },
        baseline: { rssKiB: 180 * 1024, hwmKiB: 180 * 1024 },
      },
      fills: [
        { server: 'ours', fromKeys: 0, toKeys: 1_000_000, seconds: 30, setsPerSecond: 33_333, failures: 0, memoryAfter: { rssKiB: 200 * 1024, hwmKiB: 210 * 1024 } },
        { server: 'baseline', fromKeys: 0, toKeys: 1_000_000, seconds: 110, setsPerSecond: 9_091, failures: 0, memoryAfter: { rssKiB: 800 * 1024, hwmKiB: 900 * 1024 }, gc: { count: 500, totalMs: 4000, maxPauseMs: 250 } },
      ],
      runs: [
        run('ours', 1, 90_000, 2_000),
        run('baseline', 1, 10_000, 20_000, { gc: { count: 50, totalMs: 800, maxPauseMs: 120 } }),
        run('baseline', 2, 9_000, 30_000, { status404: 3, statusOther: 2, socketErrors: 1 }),
        run('ours', 2, 72_000, 3_000),
      ],
    },
    redis: [
      {
        version: '7.0.15',
        keys: 1_000_000,
        valueBytes: 100,
        clients: 50,
        pipeline: 1,
        requestsPerTest: 500_000,
        idleMemory: { rssKiB: 8 * 1024, hwmKiB: 8 * 1024 },
        memory: { rssKiB: 158 * 1024, hwmKiB: 160 * 1024, usedMemoryBytes: 140 * 1024 ** 2 },
        tests: [
          { test: 'SET', requestsPerSecond: 140_000, latencyMs: { avg: 0.3, min: 0.1, p50: 0.25, p95: 0.4, p99: 0.5, max: 2 } },
          { test: 'GET', requestsPerSecond: 150_000, latencyMs: { avg: 0.3, min: 0.1, p50: 0.24, p95: 0.4, p99: 0.45, max: 1.5 } },
        ],
      },
    ],
    micro: {
      keys: 1_000_000,
      valueBytes: 100,
      results: [
        { phase: 'get-hit', impl: 'slabcache', opsPerSecond: 4_000_000, rmePercent: 1.5, samples: 50 },
        { phase: 'get-hit', impl: 'lru-cache', opsPerSecond: 8_000_000, rmePercent: 2.5, samples: 50 },
        { phase: 'get-hit', impl: 'Map', opsPerSecond: 20_000_000, rmePercent: 0.5, samples: 50 },
      ],
    },
    notes: ['a note'],
  };
}
