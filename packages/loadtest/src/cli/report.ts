/**
 * `pnpm --filter @slabcache/loadtest report`: the one command behind
 * reports/latest.md. It runs, one after the other,
 *   1. the microbenchmarks (bench/run.ts, in a child process, no server running),
 *   2. the redis reference at each pool size,
 *   3. the HTTP comparison, ours against the baseline, in alternating rounds,
 * then writes latest.md, the SVG charts and results/latest.json.
 *
 * Progress: each phase is announced as "== phase k/n: … ==" with the time the
 * report has run so far; fills (redis, ours, the baseline) show keys, keys/s
 * and an ETA, and the HTTP comparison its timed runs done and an ETA: a status
 * line on a terminal, a "progress: …" line every 10 s otherwise
 * (src/progress.ts).
 *
 *   --preset full   sizes 1M,5M, 3 rounds × 8 s per route and server: 40 min
 *                   on the 2-core VM of 2026-12-01 (29.5 of them filling the
 *                   baseline to 5M keys through Express at ~2.8k sets/s); with
 *                   --sizes 1000000 --duration 6 --skip micro about 10 min
 *   --preset quick  100k keys, 2 rounds × 5 s: about 3 min; a preliminary look
 *   --preset smoke  tiny pools, 1 round × 2 s: about 30 s, numbers meaningless
 *   Any compare option (--sizes, --rounds, --duration, ...) overrides the preset;
 *   also --redis-requests, --micro-keys, --micro-max-time, --skip http,redis,micro,
 *   --out-dir DIR (default: reports/), --render-only RESULTS.json (re-render only).
 *
 * Exits 1 if any HTTP request failed (a non-2xx other than 404, or a socket error).
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { parseChoiceList, parseCount, cliArgs } from '../cli-args.js';
import { COMPARE_OPTIONS, comparisonConfigFrom } from '../compare-options.js';
import { runComparison, timedSecondsOf } from '../compare.js';
import { describeMachine } from '../machine.js';
import { loadtestDir, paths } from '../paths.js';
import { runRedisReference } from '../redis.js';
import { formatDuration, Progress } from '../progress.js';
import type { LoadtestResults, MicroSuite } from '../results.js';
import { writeReport } from '../report/render.js';

type Part = 'http' | 'redis' | 'micro';

const PRESETS = {
  full: {
    sizes: '1M,5M',
    rounds: '3',
    duration: '8',
    'max-keys': '5M',
    'max-bytes': String(1.5 * 1024 ** 3),
    'redis-requests': '500k',
    'micro-keys': '1M',
    'micro-max-time': '2',
  },
  quick: {
    sizes: '100k',
    rounds: '2',
    duration: '5',
    'max-keys': '5M',
    'max-bytes': String(1.5 * 1024 ** 3),
    'redis-requests': '100k',
    'micro-keys': '100k',
    'micro-max-time': '1',
  },
  smoke: {
    sizes: '2000',
    rounds: '1',
    duration: '2',
    'max-keys': '5000',
    'max-bytes': String(64 * 1024 ** 2),
    'redis-requests': '5000',
    'micro-keys': '2000',
    'micro-max-time': '0.05',
  },
} as const;

/**
 * Fill rates through the API for the up-front time estimate only: measured by the full report of
 * 2026-12-01 on the 2-core AMD EPYC VM (ours 25.5k-30.1k sets/s, the baseline 2.8k-3.0k).
 */
const ASSUMED_SETS_PER_SECOND = { ours: 25_000, baseline: 2_800 } as const;

function runMicroChild(keys: string, maxTime: string): MicroSuite {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-micro-'));
  try {
    const json = join(dir, 'micro.json');
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(loadtestDir(), 'bench', 'run.ts'), '--keys', keys, '--max-time', maxTime, '--json', json],
      { cwd: loadtestDir(), stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60_000 },
    );
    if (child.status !== 0) throw new Error(`microbenchmarks failed (exit ${child.status ?? child.signal})`);
    return JSON.parse(readFileSync(json, 'utf8')) as MicroSuite;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      ...Object.fromEntries(Object.entries(COMPARE_OPTIONS).map(([k, v]) => [k, { type: v.type }])),
      preset: { type: 'string', default: 'full' },
      'redis-requests': { type: 'string' },
      'micro-keys': { type: 'string' },
      'micro-max-time': { type: 'string' },
      skip: { type: 'string', default: '' },
      'out-dir': { type: 'string' },
      'render-only': { type: 'string' },
    },
    strict: true,
  }) as { values: Record<string, string | undefined> };

  const outDir = values['out-dir'] ?? paths.reportsDir();
  if (values['render-only']) {
    const results = JSON.parse(readFileSync(values['render-only'], 'utf8')) as LoadtestResults;
    const written = writeReport(results, outDir, { writeResults: false });
    console.log(`rendered ${written.markdown}`);
    return;
  }

  const presetName = values.preset as keyof typeof PRESETS;
  const preset = PRESETS[presetName];
  if (!preset) throw new TypeError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  const pick = (name: keyof typeof preset): string => values[name] ?? preset[name];
  const skip = new Set(parseChoiceList<Part>(values.skip ?? '', ['http', 'redis', 'micro'], 'skip'));
  const compareValues = Object.fromEntries(
    Object.keys(COMPARE_OPTIONS).map((k) => [k, values[k] ?? (preset as Record<string, string>)[k]]).filter(([, v]) => v !== undefined),
  );
  const config = comparisonConfigFrom(compareValues);

  const biggest = Math.max(...config.sizes);
  const fillSeconds = config.servers.reduce((s, kind) => s + biggest / ASSUMED_SETS_PER_SECOND[kind], 0);
  console.log(
    `preset ${presetName}: HTTP timed runs about ${Math.round(timedSecondsOf(config))} s, fills about ${Math.round(fillSeconds)} s ` +
      `(at ~${ASSUMED_SETS_PER_SECOND.baseline} sets/s for the baseline); redis and microbenchmarks add a few minutes at full size`,
  );

  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const results: LoadtestResults = {
    kind: presetName,
    command: `report ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt,
    finishedAt: startedAt,
    machine,
    notes: [
      `wrk and the servers run on the same ${machine.cores} cores; each server is one Node process (one core at most).`,
      'Every run is bounded in time and sends traffic to 127.0.0.1 only.',
    ],
  };

  const progress = new Progress();
  const log = (line: string): void => progress.log(line);
  const phases = (['micro', 'redis', 'http'] as const).filter((part) => !skip.has(part));
  const reportStarted = performance.now();
  const announce = (part: Part, title: string): void =>
    log(`\n== phase ${phases.indexOf(part) + 1}/${phases.length}: ${title} (report running ${formatDuration((performance.now() - reportStarted) / 1000)}) ==`);

  if (!skip.has('micro')) {
    announce('micro', 'microbenchmarks');
    results.micro = runMicroChild(pick('micro-keys'), pick('micro-max-time'));
  }
  if (!skip.has('redis')) {
    announce('redis', 'redis reference');
    results.redis = await runRedisReference(
      {
        sizes: config.sizes,
        valueBytes: config.valueBytes,
        clients: config.connections,
        requests: parseCount(pick('redis-requests'), 'redis-requests'),
        maxBytes: config.maxBytes,
      },
      log,
      progress,
    );
  }
  if (!skip.has('http')) {
    announce('http', 'HTTP comparison');
    results.http = await runComparison(config, log, progress);
  }
  results.finishedAt = new Date().toISOString();
  results.loadAverageAtEnd = loadavg().map((v) => Math.round(v * 100) / 100);

  const written = writeReport(results, outDir);
  console.log(`\nreport finished in ${formatDuration((performance.now() - reportStarted) / 1000)}`);
  console.log(`report: ${written.markdown}\ncharts: ${written.charts.join(', ')}\nresults: ${written.results}`);

  const failed =
    (results.http?.runs.reduce((n, r) => n + r.statusOther + r.socketErrors, 0) ?? 0) +
    (results.http?.fills.reduce((n, f) => n + f.failures, 0) ?? 0);
  if (failed > 0) {
    console.error(`FAILED: ${failed} failed HTTP requests (non-2xx other than 404, or socket errors)`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
