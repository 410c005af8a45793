/**
 * Server requests/s with THREADS=1 against THREADS=2 (issue 7): the built
 * server (packages/server/dist/cli.js) on 127.0.0.1, loaded by wrk, GET and
 * PUT, in alternating rounds so that drift in the machine's load hits both
 * settings alike. Writes the table to packages/server/THREADS.md.
 *
 * Each round and setting: a fresh server on a free port in 18500-18599, a
 * preload of `keys` keys through the API, then a bounded wrk run per mode
 * (`seconds` each; wrk/get.lua reads random preloaded keys, wrk/put.lua
 * overwrites them). Besides req/s it records the server's CPU time per request
 * (utime + stime of the whole process from /proc, all threads), which is
 * steadier than req/s on a shared machine, and how /stats split the requests
 * between the server threads (proof that both served).
 *
 * Two placements of the load generator (issue 14), each measured with both
 * settings: `shared`, wrk and the server on all cores (the server's threads and
 * wrk compete for them), and `apart`, the server pinned to CPU 0 and wrk to
 * CPU 1 (taskset), so wrk never takes the server's core. On a 2-core machine
 * neither shows the server scaling from one core to two: `apart` gives the
 * server one core whatever THREADS is (it shows what a second thread costs),
 * `shared` gives it two cores that wrk also needs.
 *
 *   pnpm run build   # at the repository root: the server runs from dist/
 *   node --import tsx packages/loadtest/bench/threads.ts [--rounds 3] [--seconds 4]
 *        [--connections 64] [--wrk-threads 1] [--keys 50000] [--placement both|shared|apart]
 *        [--out packages/server/THREADS.md] [--append]
 */

import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { parseCount, cliArgs } from '../src/cli-args.js';
import { httpGet } from '../src/http-probe.js';
import { describeMachine, type MachineInfo } from '../src/machine.js';
import { repoDir } from '../src/paths.js';
import { findFreePort } from '../src/ports.js';
import { preload } from '../src/preload.js';
import { cpuTicks, TICKS_PER_SECOND } from '../src/proc-status.js';
import { startServer } from '../src/server-process.js';
import { failuresOf, runWrk } from '../src/wrk.js';

/** This benchmark's own port range (issue 7), apart from the other drivers' and from 7171. */
const PORT_RANGE = [18500, 18599] as const;
const VALUE_BYTES = 100;
const MODES = ['get', 'put'] as const;
type Mode = (typeof MODES)[number];
const SETTINGS = [1, 2] as const;
/** Where wrk runs relative to the server: on the same cores, or pinned apart (server CPU 0, wrk CPU 1). */
type Placement = 'shared' | 'apart';
const SERVER_CPU = '0';
const WRK_CPU = '1';
const TITLE = [
  '# THREADS=1 against THREADS=2: server requests/s',
  '',
  'Written by `node --import tsx packages/loadtest/bench/threads.ts` (after `pnpm run build`); `--append` adds a run',
  'below the earlier ones instead of replacing them. Every run on this shared 2-core machine is preliminary.',
  '',
].join('\n');
/** Load average (1 min, per core) above which the numbers are labelled preliminary. */
const BUSY_LOAD_PER_CORE = 0.25;

interface Sample {
  placement: Placement;
  round: number;
  threads: number;
  mode: Mode;
  requestsPerSecond: number;
  p50Us: number;
  p99Us: number;
  failures: number;
  cpuUsPerRequest: number;
  /** Requests each server thread answered during the run, from /stats. */
  perThread: number[];
}

async function threadRequests(url: string): Promise<number[]> {
  const answer = await httpGet(`${url}/stats`);
  const stats = JSON.parse(answer.body) as { threads: Array<{ requests: number }> };
  return stats.threads.map((t) => t.requests);
}

/** Pins every thread of a running process to `cpus` (threads it starts later inherit it). */
function pinProcess(pid: number, cpus: string): void {
  const result = spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset -a -cp ${cpus} ${pid} failed: ${result.stderr || result.error?.message}`);
}

async function measure(round: number, threads: number, placement: Placement, options: RunOptions, log: (line: string) => void): Promise<Sample[]> {
  const port = await findFreePort(PORT_RANGE);
  const server = await startServer('ours', {
    port,
    gcProbe: false,
    limits: { maxKeys: options.keys * 2, maxBytes: 256 * 1024 * 1024 },
    env: { THREADS: String(threads), LOG_LEVEL: 'warn' },
  });
  try {
    if (placement === 'apart') pinProcess(server.pid, SERVER_CPU);
    await preload({ url: server.url, to: options.keys, valueBytes: VALUE_BYTES });
    const samples: Sample[] = [];
    for (const mode of MODES) {
      const before = await threadRequests(server.url);
      const cpuBefore = cpuTicks(server.pid);
      const result = await runWrk({
        url: server.url,
        mode,
        threads: options.wrkThreads,
        connections: options.connections,
        durationSeconds: options.seconds,
        scriptArgs: { pool: options.keys, value: VALUE_BYTES },
        ...(placement === 'apart' ? { cpus: WRK_CPU } : {}),
      });
      const cpuSeconds = (cpuTicks(server.pid) - cpuBefore) / TICKS_PER_SECOND;
      const after = await threadRequests(server.url);
      const sample: Sample = {
        placement,
        round,
        threads,
        mode,
        requestsPerSecond: result.requestsPerSecond,
        p50Us: result.latencyUs.p50,
        p99Us: result.latencyUs.p99,
        failures: failuresOf(result) + result.status404,
        cpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.requests),
        // Includes the one /stats call that read `before` (counted once answered): noise next to wrk's requests.
        perThread: after.map((n, i) => n - (before[i] ?? 0)),
      };
      log(
        `round ${round} ${placement.padEnd(6)} THREADS=${threads} ${mode.toUpperCase().padEnd(3)} ${fmt(sample.requestsPerSecond)} req/s  ` +
          `p50 ${fmt(sample.p50Us)} µs  p99 ${fmt(sample.p99Us)} µs  server CPU ${sample.cpuUsPerRequest.toFixed(1)} µs/req  ` +
          `per thread ${sample.perThread.map(fmt).join(' / ')}  failures ${sample.failures}`,
      );
      samples.push(sample);
    }
    return samples;
  } finally {
    await server.stop();
  }
}

interface RunOptions {
  rounds: number;
  seconds: number;
  connections: number;
  wrkThreads: number;
  keys: number;
  placements: Placement[];
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const PLACEMENT_TITLE: Record<Placement, string> = {
  shared: '### wrk on the same cores as the server (no pinning)',
  apart: `### wrk pinned apart: server on CPU ${SERVER_CPU}, wrk on CPU ${WRK_CPU} (taskset)`,
};
const PLACEMENT_NOTE: Record<Placement, string> = {
  shared:
    'With THREADS=2 the two server threads and wrk share the 2 cores, so the ratio is what this machine allows, ' +
    "not the server's own scaling.",
  apart:
    'The server has one core whatever THREADS is: the ratio is the cost (or gain) of a second thread on the same ' +
    'core, with wrk never taking the server\'s core. It cannot show scaling to a second core; on this machine ' +
    'nothing that drives the server over loopback can.',
};

function placementTable(samples: Sample[], placement: Placement): string[] {
  const rows: string[] = [];
  const ratios: string[] = [];
  const cpuRatios: string[] = [];
  for (const mode of MODES) {
    const medians = new Map<number, number>();
    const cpu = new Map<number, number>();
    for (const threads of SETTINGS) {
      const runs = samples.filter((s) => s.placement === placement && s.mode === mode && s.threads === threads);
      const rps = runs.map((s) => s.requestsPerSecond);
      medians.set(threads, median(rps));
      cpu.set(threads, median(runs.map((s) => s.cpuUsPerRequest)));
      const share = runs.map((s) => s.perThread.map(fmt).join('/')).join(', ');
      rows.push(
        `| ${mode.toUpperCase()} | ${threads} | ${fmt(median(rps))} (${fmt(Math.min(...rps))}–${fmt(Math.max(...rps))}) | ` +
          `${fmt(median(runs.map((s) => s.p50Us)))} / ${fmt(median(runs.map((s) => s.p99Us)))} | ` +
          `${median(runs.map((s) => s.cpuUsPerRequest)).toFixed(1)} | ${share} | ${runs.reduce((n, s) => n + s.failures, 0)} |`,
      );
    }
    ratios.push(`${mode.toUpperCase()} **${((medians.get(2) ?? 0) / (medians.get(1) ?? 1)).toFixed(2)}×**`);
    cpuRatios.push(`${mode.toUpperCase()} ${((cpu.get(2) ?? 0) / (cpu.get(1) ?? 1)).toFixed(2)}×`);
  }
  return [
    PLACEMENT_TITLE[placement],
    '',
    PLACEMENT_NOTE[placement],
    '',
    '| route | THREADS | req/s median (min–max) | latency p50 / p99 µs | server CPU µs/req | requests per server thread, each run | failures |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `THREADS=2 ÷ THREADS=1, median req/s: ${ratios.join(', ')}. Server CPU per request: ${cpuRatios.join(', ')} ` +
      '(above 1: the cost of sharing — writes take the cache lock, which THREADS=1 never takes, and threads ' +
      'contend for cores).',
    '',
  ];
}

function report(samples: Sample[], options: RunOptions, machine: MachineInfo, loadAfter: number[], busy: boolean): string {
  const label = busy ? 'Preliminary: the machine was busy with other jobs during the run (see the load averages).' : 'The machine was quiet during the run.';
  return [
    `## Run of ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    label,
    '',
    `Machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.tools['wrk'] ?? 'wrk'}. ` +
      `Load average (1/5/15 min) ${machine.loadAverage.join(' / ')} before, ${loadAfter.join(' / ')} after.`,
    '',
    `Setup: the built server on 127.0.0.1, ${fmt(options.keys)} keys of ${VALUE_BYTES}-byte values preloaded; ` +
      `wrk -t${options.wrkThreads} -c${options.connections} -d${options.seconds}s per mode (GET: random preloaded keys; ` +
      `PUT: overwrites of them, JSON /put); ${options.rounds} rounds, THREADS=1 and 2 alternating order each round; ` +
      `the server's default policy (SIEVE: GETs read without the lock).`,
    '',
    ...options.placements.flatMap((placement) => placementTable(samples, placement)),
    'Server CPU per request is the whole process (every thread) divided by the requests wrk completed. ' +
      'Requests per thread come from `/stats` before and after each run and show that the kernel spread ' +
      'wrk\'s connections over both server threads (SO_REUSEPORT; a connection stays on its thread).',
    '',
  ].join('\n');
}

function placementsOf(raw: string | undefined): Placement[] {
  if (raw === 'both') return ['shared', 'apart'];
  if (raw === 'shared' || raw === 'apart') return [raw];
  throw new Error(`--placement must be both, shared or apart, not ${JSON.stringify(raw)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '4' },
      connections: { type: 'string', default: '64' },
      'wrk-threads': { type: 'string', default: '1' },
      keys: { type: 'string', default: '50000' },
      out: { type: 'string' },
      append: { type: 'boolean', default: false },
      placement: { type: 'string', default: 'both' },
    },
    strict: true,
  });
  const options: RunOptions = {
    rounds: parseCount(values.rounds, 'rounds'),
    seconds: parseCount(values.seconds, 'seconds'),
    connections: parseCount(values.connections, 'connections'),
    wrkThreads: parseCount(values['wrk-threads'], 'wrk-threads'),
    keys: parseCount(values.keys, 'keys'),
    placements: placementsOf(values.placement),
  };
  const out = values.out ?? join(repoDir(), 'packages', 'server', 'THREADS.md');
  const machine = describeMachine();
  if (options.placements.includes('apart') && machine.cores < 2) throw new Error('--placement apart needs at least 2 CPUs');
  const samples: Sample[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 === 1 ? SETTINGS : ([...SETTINGS].reverse() as number[]);
    for (const placement of options.placements) {
      for (const threads of order) samples.push(...(await measure(round, threads, placement, options, (line) => console.log(line))));
    }
  }
  const loadAfter = describeMachine().loadAverage;
  const busiest = Math.max(machine.loadAverage[0] ?? 0, loadAfter[0] ?? 0);
  // The benchmark itself loads the machine; count only what it cannot explain (about 2 busy cores at the end).
  const busy = (machine.loadAverage[0] ?? 0) / machine.cores > BUSY_LOAD_PER_CORE || busiest > machine.cores + 1;
  const text = report(samples, options, machine, loadAfter, busy);
  if (values.append && existsSync(out)) appendFileSync(out, `\n${text}`);
  else writeFileSync(out, `${TITLE}\n${text}`);
  console.log(`\n${text}\nwritten to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
