/**
 * Turns raw HTTP comparison runs into the rows the report prints: per pool
 * size and route, each server's median numbers over its rounds, and the ratio
 * ours / baseline computed per round (the two runs of a round ran back to back)
 * and then summarised as median and range.
 */

import type { FillRun, HttpComparison, HttpRun, MemorySample, Route } from '../results.js';
import type { ServerKind } from '../server-process.js';
import { median, spread, type Spread } from './stats.js';

export interface ServerRouteSummary {
  runs: number;
  requestsPerSecond: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  /** Worst single request over all rounds. */
  maxUs: number;
  status404: number;
  failures: number;
  /** Largest RSS sampled right after a run, over the rounds (KiB). */
  rssAfterKiB: number;
  /** GC time per second of load (median over rounds), and the worst pause in any round. */
  gcMsPerSecond?: number;
  gcMaxPauseMs?: number;
}

export interface HttpRow {
  keys: number;
  route: Route;
  ours?: ServerRouteSummary;
  baseline?: ServerRouteSummary;
  /** Requests/s ours ÷ baseline, one value per round. */
  ratio?: Spread;
  /** p99 latency baseline ÷ ours, one value per round (above 1: ours is faster). */
  p99Speedup?: Spread;
}

export interface MemoryRow {
  keys: number;
  server: ServerKind;
  memory: MemorySample;
  fill: FillRun;
}

export interface HttpSummary {
  rows: HttpRow[];
  memory: MemoryRow[];
}

function summarizeRuns(runs: readonly HttpRun[]): ServerRouteSummary | undefined {
  if (runs.length === 0) return undefined;
  const gcRuns = runs.filter((r) => r.gc !== undefined);
  return {
    runs: runs.length,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Us: median(runs.map((r) => r.latencyUs.p50)),
    p90Us: median(runs.map((r) => r.latencyUs.p90)),
    p99Us: median(runs.map((r) => r.latencyUs.p99)),
    maxUs: Math.max(...runs.map((r) => r.latencyUs.max)),
    status404: runs.reduce((n, r) => n + r.status404, 0),
    failures: runs.reduce((n, r) => n + r.statusOther + r.socketErrors, 0),
    rssAfterKiB: Math.max(...runs.map((r) => r.memoryAfter.rssKiB)),
    ...(gcRuns.length
      ? {
          gcMsPerSecond: median(gcRuns.map((r) => (r.gc?.totalMs ?? 0) / r.durationSeconds)),
          gcMaxPauseMs: Math.max(...gcRuns.map((r) => r.gc?.maxPauseMs ?? 0)),
        }
      : {}),
  };
}

function pairedRatios(runs: readonly HttpRun[], value: (ours: HttpRun, baseline: HttpRun) => number): number[] {
  const rounds = [...new Set(runs.map((r) => r.round))].sort((a, b) => a - b);
  const out: number[] = [];
  for (const round of rounds) {
    const ours = runs.find((r) => r.round === round && r.server === 'ours');
    const baseline = runs.find((r) => r.round === round && r.server === 'baseline');
    if (ours && baseline) out.push(value(ours, baseline));
  }
  return out;
}

export function summarizeHttp(http: HttpComparison): HttpSummary {
  const rows: HttpRow[] = [];
  for (const keys of http.config.sizes) {
    for (const route of http.config.routes) {
      const runs = http.runs.filter((r) => r.keys === keys && r.route === route);
      const ours = summarizeRuns(runs.filter((r) => r.server === 'ours'));
      const baseline = summarizeRuns(runs.filter((r) => r.server === 'baseline'));
      const ratios = pairedRatios(runs, (o, b) => o.requestsPerSecond / b.requestsPerSecond);
      const p99 = pairedRatios(runs, (o, b) => b.latencyUs.p99 / o.latencyUs.p99);
      rows.push({
        keys,
        route,
        ...(ours ? { ours } : {}),
        ...(baseline ? { baseline } : {}),
        ...(ratios.length ? { ratio: spread(ratios) } : {}),
        ...(p99.length ? { p99Speedup: spread(p99) } : {}),
      });
    }
  }
  const memory: MemoryRow[] = http.fills.map((fill) => ({ keys: fill.toKeys, server: fill.server, memory: fill.memoryAfter, fill }));
  return { rows, memory };
}
