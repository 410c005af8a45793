/**
 * Runs Locust headless against a server, bounded in time, and reads back its
 * CSV statistics. Locust is Debian's python3-locust, run by the system Python
 * (/usr/bin/python3; override with LOCUST_PYTHON) so a pyenv or virtualenv
 * python on PATH cannot shadow it.
 *
 * A run passes when Locust exits 0 and reports no failures: 404s are counted by
 * the locustfile as expected misses and are not failures. The numbers come
 * from the summary the locustfile writes when Locust quits (final, unlike
 * Locust 2.12's CSV files, which are written on a timer and can miss the last
 * second of a run); the CSV and HTML reports are kept for people.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { paths } from './paths.js';

export interface LocustOptions {
  host: string;
  users: number;
  spawnRate: number;
  runTimeSeconds: number;
  keyPool: number;
  valueBytes: number;
  putWeight: number;
  getWeight: number;
  /** Path prefix of the reports: PREFIX_stats.csv, PREFIX_failures.csv, PREFIX.html. */
  reportPrefix: string;
}

export interface LocustRouteStats {
  name: string;
  requests: number;
  failures: number;
  medianMs: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerSecond: number;
}

export interface LocustResult {
  exitCode: number | null;
  routes: LocustRouteStats[];
  total: LocustRouteStats;
  getMisses: number;
  failureLines: string[];
  csv: string;
  html: string;
}

interface RawEntry {
  method: string | null;
  name: string;
  requests: number;
  failures: number;
  requests_per_second: number;
  median_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number | null;
}

interface RawSummary {
  exit_code: number;
  get_404: number;
  routes: RawEntry[];
  total: RawEntry;
  errors: { method: string; name: string; error: string; occurrences: number }[];
}

function entryOf(raw: RawEntry): LocustRouteStats {
  return {
    name: raw.method ? `${raw.method} ${raw.name}` : raw.name,
    requests: raw.requests,
    failures: raw.failures,
    medianMs: raw.median_ms,
    p95Ms: raw.p95_ms,
    p99Ms: raw.p99_ms,
    maxMs: raw.max_ms ?? NaN,
    requestsPerSecond: raw.requests_per_second,
  };
}

/** Reads the summary the locustfile writes at quit (LOCUST_SUMMARY_FILE). */
export function parseLocustSummary(json: string): Omit<LocustResult, 'exitCode' | 'csv' | 'html'> {
  const raw = JSON.parse(json) as RawSummary;
  return {
    routes: raw.routes.map(entryOf),
    total: entryOf(raw.total),
    getMisses: raw.get_404,
    failureLines: raw.errors.map((e) => `${e.occurrences} × ${e.method} ${e.name}: ${e.error}`),
  };
}

export function runLocust(options: LocustOptions): Promise<LocustResult> {
  const python = process.env.LOCUST_PYTHON ?? '/usr/bin/python3';
  const csv = `${options.reportPrefix}_stats.csv`;
  const html = `${options.reportPrefix}.html`;
  const summaryFile = `${options.reportPrefix}_summary.json`;
  mkdirSync(dirname(options.reportPrefix), { recursive: true });
  const args = [
    '-m', 'locust',
    '-f', paths.locustfile(),
    '--headless',
    '--host', options.host,
    '-u', String(options.users),
    '-r', String(options.spawnRate),
    '-t', `${options.runTimeSeconds}s`,
    '--stop-timeout', '5',
    '--csv', options.reportPrefix,
    '--html', html,
    '--only-summary',
    '--exit-code-on-error', '1',
  ];
  const env = {
    ...process.env,
    LOCUST_KEY_POOL: String(options.keyPool),
    LOCUST_VALUE_BYTES: String(options.valueBytes),
    LOCUST_PUT_WEIGHT: String(options.putWeight),
    LOCUST_GET_WEIGHT: String(options.getWeight),
    LOCUST_SUMMARY_FILE: summaryFile,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    // Bounded: run time, plus start-up, the stop timeout and report writing.
    const killer = setTimeout(() => child.kill('SIGKILL'), (options.runTimeSeconds + 60) * 1000);
    child.on('error', (error) => reject(new Error(`could not run ${python} -m locust (apt-get install -y python3-locust): ${error.message}`)));
    child.on('close', (exitCode, signal) => {
      clearTimeout(killer);
      if (signal === 'SIGKILL') return reject(new Error(`locust overran its bound and was killed:\n${output}`));
      if (!existsSync(summaryFile)) return reject(new Error(`locust wrote no ${summaryFile} (exit ${exitCode}):\n${output}`));
      try {
        resolve({ exitCode, ...parseLocustSummary(readFileSync(summaryFile, 'utf8')), csv, html });
      } catch (error) {
        reject(new Error(`${(error as Error).message}\n${output}`));
      }
    });
  });
}
