/**
 * The soak: our server at MAX_KEYS=5,000,000 under continuous eviction for a
 * long, configurable time, watched every second. Not a unit test: a script
 * that writes a report.
 *
 *   node --import tsx soak/soak.ts [--minutes 10] [--keys 5M] [--value-bytes 100]
 *        [--connections 8] [--port N] [--out-dir reports/soak] [--label preliminary]
 *   (from packages/loadtest, after `pnpm run build` at the root: it runs the built
 *   server, packages/server/dist/cli.js)
 *
 * Phases:
 *   1. fill: wrk writes keys soak-10000000 … (one per key; bounded to 10 minutes);
 *   2. steady, for --minutes: two wrk processes side by side, in 30 s segments:
 *      PUTs of fresh keys (never written before, so every write past the fill
 *      evicts the least recently used entry) and GETs of random keys from
 *      everything written so far (mostly misses, as most were evicted).
 * Every second it samples the server's RSS (/proc/PID/status VmRSS) and its
 * event-loop delay, items and evictions (GET /stats).
 * Progress: the fill shows keys, keys/s and an ETA; the steady phase the time
 * left (a status line on a terminal, a line every 10 s otherwise).
 *
 * Pass: zero errors (non-2xx other than a GET's 404, socket errors, failed
 * /stats reads, the server dying), evictions growing throughout the steady
 * phase, and RSS flat after the warm-up (the fill plus the first fifth of the
 * steady phase; rules in verdict.ts). Exit status 0 on pass, 1 on fail.
 * Writes <out-dir>/soak-report.md, soak-rss.svg, soak-loop-delay.svg and
 * soak-samples.json. Everything is on 127.0.0.1 and stops by itself.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { parseCount } from '../src/cli-args.js';
import { httpGet } from '../src/http-probe.js';
import { describeMachine } from '../src/machine.js';
import { paths } from '../src/paths.js';
import { findFreePort } from '../src/ports.js';
import { Progress, type ProgressTask } from '../src/progress.js';
import { readProcessMemory } from '../src/proc-status.js';
import { startServer, type RunningServer } from '../src/server-process.js';
import { failuresOf, runWrk, type WrkResult } from '../src/wrk.js';

import { renderLineChart } from './line-chart.js';
import { writeReport } from './report.js';
import { rssFlatness, type Sample } from './verdict.js';

/** Manual-run port range of this work (see the project notes). */
const SOAK_PORTS = [18650, 18699] as const;
const SEGMENT_SECONDS = 30;
const FILL_BOUND_SECONDS = 600;
const KEY_PREFIX = 'soak-';
/**
 * Key numbers start here so that every key has 8 digits: a key that grows by
 * a digit can move its entries into the next slab size class, and the new
 * class's pages would show up as RSS growth that says nothing about leaks.
 */
const FIRST_KEY = 10_000_000;
const LAST_KEY = 99_999_999;

export interface SoakSettings {
  readonly minutes: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly connections: number;
  readonly label: string;
  readonly outDir: string;
  readonly port: number | undefined;
}

function settingsFrom(argv: string[]): SoakSettings {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '10' },
      keys: { type: 'string', default: '5M' },
      'value-bytes': { type: 'string', default: '100' },
      connections: { type: 'string', default: '8' },
      label: { type: 'string', default: '' },
      'out-dir': { type: 'string' },
      port: { type: 'string' },
    },
    strict: true,
  });
  const minutes = Number(values.minutes);
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new TypeError('--minutes must be a number of minutes, above 0 and at most 1440');
  return {
    minutes,
    keys: parseCount(values.keys, 'keys'),
    valueBytes: parseCount(values['value-bytes'], 'value-bytes'),
    connections: Math.max(1, parseCount(values.connections, 'connections')),
    label: values.label,
    outDir: resolve(values['out-dir'] ?? join(paths.reportsDir(), 'soak')),
    port: values.port === undefined ? undefined : parseCount(values.port, 'port'),
  };
}

interface StatsReply {
  engine: { curr_items: number; evictions: number };
  process: { heap_total_bytes: number; event_loop_delay?: { p99_ms: number; max_ms: number } };
}

/** Samples the server once a second until stopped. */
function startSampler(server: RunningServer, startedAt: number, phase: () => Sample['phase']): { samples: Sample[]; stop(): void } {
  const samples: Sample[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy || !server.isAlive()) return; // a slow /stats read is not stacked up
    busy = true;
    const t = Math.round((Date.now() - startedAt) / 100) / 10;
    let rssMiB = NaN;
    try {
      rssMiB = readProcessMemory(server.pid).rssKiB / 1024;
    } catch {
      // the process is gone; the run fails on isAlive()
    }
    httpGet(`${server.url}/stats`, 5000)
      .then((answer) => {
        if (answer.status !== 200) throw new Error(`/stats answered ${answer.status}`);
        const stats = JSON.parse(answer.body) as StatsReply;
        const loop = stats.process.event_loop_delay;
        samples.push({
          t,
          phase: phase(),
          rssMiB,
          heapMiB: stats.process.heap_total_bytes / 1048576,
          loopP99Ms: loop?.p99_ms ?? NaN,
          loopMaxMs: loop?.max_ms ?? NaN,
          items: stats.engine.curr_items,
          evictions: stats.engine.evictions,
          statsError: false,
        });
      })
      .catch(() => {
        samples.push({ t, phase: phase(), rssMiB, heapMiB: NaN, loopP99Ms: NaN, loopMaxMs: NaN, items: NaN, evictions: NaN, statsError: true });
      })
      .finally(() => {
        busy = false;
      });
  }, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

export interface SoakResult {
  readonly settings: SoakSettings;
  readonly samples: readonly Sample[];
  readonly fillSeconds: number;
  readonly warmupEndSeconds: number;
  readonly fill: WrkResult;
  readonly segments: ReadonlyArray<{ readonly put: WrkResult; readonly get: WrkResult }>;
  readonly freshKeysWritten: number;
  readonly serverDied: boolean;
  readonly startedAtIso: string;
}

async function soak(settings: SoakSettings): Promise<SoakResult> {
  const port = settings.port ?? (await findFreePort(SOAK_PORTS));
  const server = await startServer('ours', {
    port,
    limits: { maxKeys: settings.keys },
    // One server thread: the soak watches one event loop and one process's memory growth.
    env: { THREADS: '1', LOG_LEVEL: 'warn' },
  });
  const startedAt = Date.now();
  const startedAtIso = new Date(startedAt).toISOString();
  let phase: Sample['phase'] = 'fill';
  const sampler = startSampler(server, startedAt, () => phase);
  const segments: Array<{ put: WrkResult; get: WrkResult }> = [];
  let fill: WrkResult | undefined;
  let fillSeconds = 0;
  let next = FIRST_KEY + settings.keys;
  const progress = new Progress();
  const log = (line: string): void => progress.log(line);
  let steadyClock: NodeJS.Timeout | undefined;
  let steadyTask: ProgressTask | undefined;
  try {
    const fillThreads = 2;
    log(`soak: server pid ${server.pid} on ${server.url}; filling ${settings.keys} keys…`);
    const fillTask = progress.task('soak fill', { unit: 'keys', total: settings.keys, summary: false });
    fill = await runWrk({
      url: server.url,
      mode: 'preload',
      threads: fillThreads,
      connections: Math.max(fillThreads, settings.connections * 2),
      durationSeconds: FILL_BOUND_SECONDS,
      scriptArgs: { from: FIRST_KEY, to: FIRST_KEY + settings.keys, pool: FIRST_KEY + settings.keys, value: settings.valueBytes, prefix: KEY_PREFIX },
      onProgress: (written) => fillTask.update(written),
    }).finally(() => fillTask.end());
    fillSeconds = (Date.now() - startedAt) / 1000;
    phase = 'steady';
    log(`soak: filled in ${fillSeconds.toFixed(0)} s (${failuresOf(fill)} failures); steady load for ${settings.minutes} min…`);

    const steadyStart = Date.now();
    const steadyEnd = steadyStart + settings.minutes * 60_000;
    steadyTask = progress.task('soak steady load', { unit: 's', total: settings.minutes * 60, showRate: false, summary: false });
    const task = steadyTask;
    steadyClock = setInterval(() => task.update(Math.min(settings.minutes * 60, (Date.now() - steadyStart) / 1000)), 1000);
    steadyClock.unref();
    while (Date.now() < steadyEnd - 1000 && server.isAlive()) {
      if (next + 50_000_000 > LAST_KEY) throw new Error('ran out of 8-digit keys: run fewer --minutes (about 40 at 30k PUT/s)');
      const seconds = Math.max(1, Math.min(SEGMENT_SECONDS, Math.round((steadyEnd - Date.now()) / 1000)));
      const [put, get] = await Promise.all([
        runWrk({
          url: server.url,
          mode: 'preload',
          threads: 1,
          connections: settings.connections,
          durationSeconds: seconds,
          // Fresh keys only: far more than a segment can write, so the thread never runs out.
          scriptArgs: { from: next, to: next + 50_000_000, pool: next + 50_000_000, value: settings.valueBytes, prefix: KEY_PREFIX },
        }),
        runWrk({
          url: server.url,
          mode: 'get',
          threads: 1,
          connections: settings.connections,
          durationSeconds: seconds,
          scriptArgs: { pool: next, value: settings.valueBytes, prefix: KEY_PREFIX },
        }),
      ]);
      segments.push({ put, get });
      // Responses counted, plus a margin for requests in flight when wrk stopped (written or not).
      next += put.requests + 10 * settings.connections;
      const last = sampler.samples.at(-1);
      log(
        `soak: t=${last?.t ?? '?'} s  PUT ${put.requestsPerSecond.toFixed(0)}/s  GET ${get.requestsPerSecond.toFixed(0)}/s  ` +
          `RSS ${last?.rssMiB.toFixed(0) ?? '?'} MiB  loop p99 ${last?.loopP99Ms ?? '?'} ms  evictions ${last?.evictions ?? '?'}  ` +
          `failures ${failuresOf(put) + failuresOf(get)}`,
      );
    }
  } finally {
    clearInterval(steadyClock);
    steadyTask?.end();
    sampler.stop();
    await new Promise((r) => setTimeout(r, 1100)); // let a last /stats read land
  }
  const serverDied = !server.isAlive();
  await server.stop();
  const steadySamples = sampler.samples.filter((s) => s.phase === 'steady');
  const steadyStart = steadySamples[0]?.t ?? fillSeconds;
  const steadyEnd = steadySamples.at(-1)?.t ?? steadyStart;
  return {
    settings,
    samples: sampler.samples,
    fillSeconds,
    warmupEndSeconds: steadyStart + (steadyEnd - steadyStart) / 5,
    fill: fill as WrkResult,
    segments,
    freshKeysWritten: next - FIRST_KEY - settings.keys,
    serverDied,
    startedAtIso,
  };
}

export interface SoakVerdict {
  readonly errors: number;
  readonly evictionsGrew: boolean;
  readonly flatness: ReturnType<typeof rssFlatness>;
  readonly pass: boolean;
}

export function judge(result: SoakResult): SoakVerdict {
  const wrkFailures = failuresOf(result.fill) + result.segments.reduce((sum, s) => sum + failuresOf(s.put) + failuresOf(s.get), 0);
  // A PUT never answers 404; a 404 there would be a failure hidden among "misses".
  const put404 = result.fill.status404 + result.segments.reduce((sum, s) => sum + s.put.status404, 0);
  const statsErrors = result.samples.filter((s) => s.statsError).length;
  const errors = wrkFailures + put404 + statsErrors + (result.serverDied ? 1 : 0);
  const steady = result.samples.filter((s) => s.phase === 'steady' && !s.statsError);
  const quarter = Math.max(1, Math.floor(steady.length / 4));
  const evictionsAt = (s: Sample | undefined): number => s?.evictions ?? NaN;
  // Evictions keep rising: in the last quarter of the steady phase as well as overall.
  const evictionsGrew =
    evictionsAt(steady.at(-1)) > evictionsAt(steady[0]) && evictionsAt(steady.at(-1)) > evictionsAt(steady[steady.length - quarter]);
  const afterWarmup = result.samples.filter((s) => s.phase === 'steady' && s.t >= result.warmupEndSeconds && Number.isFinite(s.rssMiB));
  const flatness = rssFlatness(afterWarmup);
  return { errors, evictionsGrew, flatness, pass: errors === 0 && evictionsGrew && flatness.flat };
}

async function main(): Promise<void> {
  const settings = settingsFrom(process.argv.slice(2));
  const machine = describeMachine();
  const result = await soak(settings);
  const verdict = judge(result);
  mkdirSync(settings.outDir, { recursive: true });
  const shade = { fromSeconds: 0, toSeconds: result.warmupEndSeconds, label: 'fill + warm-up' };
  writeFileSync(
    join(settings.outDir, 'soak-rss.svg'),
    renderLineChart({
      title: `Server RSS, ${settings.keys.toLocaleString('en-US')} keys, continuous eviction`,
      unit: 'RSS (MiB)',
      series: [
        { label: 'VmRSS', color: '#1f77b4', points: result.samples.filter((s) => Number.isFinite(s.rssMiB)).map((s) => [s.t, s.rssMiB] as const) },
        { label: 'V8 heap (total)', color: '#2ca02c', points: result.samples.filter((s) => Number.isFinite(s.heapMiB)).map((s) => [s.t, s.heapMiB] as const) },
      ],
      shade,
    }),
  );
  writeFileSync(
    join(settings.outDir, 'soak-loop-delay.svg'),
    renderLineChart({
      title: 'Server event-loop delay per second',
      unit: 'delay (ms)',
      series: [
        { label: 'p99', color: '#ff7f0e', points: result.samples.filter((s) => Number.isFinite(s.loopP99Ms)).map((s) => [s.t, s.loopP99Ms] as const) },
        { label: 'max', color: '#d62728', points: result.samples.filter((s) => Number.isFinite(s.loopMaxMs)).map((s) => [s.t, s.loopMaxMs] as const) },
      ],
      shade,
    }),
  );
  writeFileSync(join(settings.outDir, 'soak-samples.json'), JSON.stringify({ settings, startedAt: result.startedAtIso, samples: result.samples }) + '\n');
  writeReport(join(settings.outDir, 'soak-report.md'), result, verdict, machine);
  process.stdout.write(`soak: ${verdict.pass ? 'PASS' : 'FAIL'}; report in ${settings.outDir}/soak-report.md\n`);
  process.exitCode = verdict.pass ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
