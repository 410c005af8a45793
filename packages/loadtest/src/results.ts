/**
 * The shape of a results file (reports/results/latest.json): everything a run
 * measured, as data, so the report can be rendered again (or differently)
 * without running the load again. Every driver appends its part; the report
 * generator (src/report) reads only this.
 */

import type { MachineInfo } from './machine.js';
import type { ServerKind } from './server-process.js';
import type { LatencyMicros, WrkMode } from './wrk.js';

// The comparison's routes; kvget and mget are bench/batch.ts's alone.
export type Route = Exclude<WrkMode, 'preload' | 'kvget' | 'mget'>;

export interface MemorySample {
  rssKiB: number;
  hwmKiB: number;
  /** From the GC probe's process.memoryUsage(), when present. */
  heapUsedBytes?: number;
  externalBytes?: number;
  arrayBuffersBytes?: number;
}

export interface GcDelta {
  count: number;
  totalMs: number;
  /** Worst single pause seen inside the phase's time window (pauses ≥ 5 ms are recorded). */
  maxPauseMs: number;
}

export interface HttpRun {
  server: ServerKind;
  route: Route;
  /** Keys preloaded (and the pool the run draws from). */
  keys: number;
  round: number;
  requestsPerSecond: number;
  requests: number;
  durationSeconds: number;
  latencyUs: LatencyMicros;
  status404: number;
  statusOther: number;
  socketErrors: number;
  memoryBefore: MemorySample;
  memoryAfter: MemorySample;
  gc?: GcDelta;
}

export interface FillRun {
  server: ServerKind;
  fromKeys: number;
  toKeys: number;
  seconds: number;
  setsPerSecond: number;
  failures: number;
  memoryAfter: MemorySample;
  gc?: GcDelta;
}

/** The settings of a comparison run, recorded with its results. */
export interface ComparisonSettings {
  servers: ServerKind[];
  sizes: number[];
  rounds: number;
  durationSeconds: number;
  routes: Route[];
  threads: number;
  connections: number;
  valueBytes: number;
  putPercentInMix: number;
  maxKeys: number;
  maxBytes: number;
  /** Our server's HTTP threads (THREADS); absent in results from before the setting existed. */
  ourThreads?: number;
}

export interface HttpComparison {
  config: ComparisonSettings;
  idleMemory: Record<ServerKind, MemorySample>;
  fills: FillRun[];
  runs: HttpRun[];
}

export interface RedisTest {
  /** GET or SET, as redis-benchmark names them. */
  test: string;
  requestsPerSecond: number;
  latencyMs: { avg: number; min: number; p50: number; p95: number; p99: number; max: number };
}

export interface RedisResult {
  version: string;
  keys: number;
  valueBytes: number;
  clients: number;
  pipeline: number;
  requestsPerTest: number;
  /** Right after start, before any key. */
  idleMemory: { rssKiB: number; hwmKiB: number };
  memory: { rssKiB: number; hwmKiB: number; usedMemoryBytes: number };
  tests: RedisTest[];
}

export interface MicroResult {
  phase: string;
  impl: string;
  opsPerSecond: number;
  /** Relative margin of error, percent (benchmark.js `rme`, 95% confidence). */
  rmePercent: number;
  samples: number;
}

export interface MicroSuite {
  keys: number;
  valueBytes: number;
  results: MicroResult[];
}

export interface LoadtestResults {
  /** What produced the file: "full" or "smoke", with the command line. */
  kind: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** 1, 5 and 15 minute load averages when the run ended (the start is in `machine`). */
  loadAverageAtEnd?: number[];
  http?: HttpComparison;
  redis?: RedisResult[];
  micro?: MicroSuite;
  notes: string[];
}
