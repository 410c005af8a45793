/**
 * Batches and the client (issue 17), measured in one session against one
 * server, in alternating order by round so that drift in the machine's load
 * hits every run alike. Keys per second is the figure: a /mget request reads
 * `--batch` keys, a GET one.
 *
 *   get      wrk GET /get?key=, one key per request (the seed's read)
 *   mget     wrk POST /mget, --batch random keys per request            target: ≥ 10× get
 *   redis    redis-benchmark GET -P 16 (16 pipelined commands per client) goal: mget ≥ redis
 *            and redis-benchmark MGET of --batch keys, -P 1, for reference
 *   kvget    wrk GET /kv/<key>: the route the client's get() uses
 *   client   @slabcache/client get() and getMany(--batch) from a Node process, at
 *            wrk's concurrency: its keys/s against wrk's on the same route is
 *            the client's overhead
 *
 * Every key read was preloaded (`--keys`, values of --value-bytes), in our
 * server and in redis alike, so every read hits. The server is the built CLI
 * with its default THREADS (one per core) unless --threads says otherwise.
 *
 *   pnpm bench:batch                      # at the repository root: builds, then runs this
 *   node --import tsx packages/loadtest/bench/batch.ts [--rounds 3] [--seconds 8]
 *        [--connections 50] [--keys 100k] [--value-bytes 100] [--batch 100] [--threads N]
 *        [--redis-requests 2M] [--out packages/loadtest/reports/batch.md] [--append-report]
 *
 * It writes --out (and the same name .json with every sample); --append-report
 * also puts the run into reports/latest.md between markers (replacing an
 * earlier one). A run on a busy machine is labelled preliminary. Every load
 * run is bounded (wrk -d plus a kill; redis-benchmark -n plus a kill; the
 * client --seconds plus a kill) and all traffic stays on 127.0.0.1.
 */

import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

import { parseCount, cliArgs } from '../src/cli-args.js';
import { describeMachine, type MachineInfo } from '../src/machine.js';
import { loadtestDir, paths } from '../src/paths.js';
import { preload } from '../src/preload.js';
import { cpuTicks, TICKS_PER_SECOND } from '../src/proc-status.js';
import { putSection } from '../src/report/sections.js';
import { fillRedis, parseRedisBenchmarkCsv, redisBenchKey, startRedis, type RunningRedis } from '../src/redis.js';
import { startServer, type RunningServer } from '../src/server-process.js';
import { failuresOf, runWrk, type WrkMode } from '../src/wrk.js';

const execFileAsync = promisify(execFile);

type Target = 'get' | 'mget' | 'kvget' | 'client-get' | 'client-getMany' | 'redis-get-p16' | 'redis-mget';
const LABELS: Record<Target, string> = {
  get: 'GET /get, 1 key per request (wrk)',
  mget: 'POST /mget, B keys per request (wrk)',
  kvget: 'GET /kv/<key>, 1 key per request (wrk)',
  'client-get': '@slabcache/client get() (GET /kv)',
  'client-getMany': '@slabcache/client getMany(B keys) (POST /mget)',
  'redis-get-p16': 'redis GET, pipelined -P 16 (redis-benchmark)',
  'redis-mget': 'redis MGET of B keys, -P 1 (redis-benchmark)',
};
const BUSY_LOAD_PER_CORE = 0.25;

interface Options {
  rounds: number;
  seconds: number;
  connections: number;
  keys: number;
  valueBytes: number;
  batch: number;
  threads: number | undefined;
  redisRequests: number;
}

interface Sample {
  round: number;
  target: Target;
  requests: number;
  keysPerSecond: number;
  requestsPerSecond: number;
  /** Server CPU (utime + stime) per key read, µs; for redis, redis-server's. */
  serverCpuUsPerKey: number;
  /** The load generator's own CPU per request (client runs only), µs. */
  clientCpuUsPerRequest?: number;
  failures: number;
}

const cpuUs = (ticks: number): number => (ticks / TICKS_PER_SECOND) * 1e6;

async function wrkSample(round: number, target: 'get' | 'mget' | 'kvget', server: RunningServer, options: Options): Promise<Sample> {
  const before = cpuTicks(server.pid);
  const result = await runWrk({
    url: server.url,
    mode: target as WrkMode,
    threads: 1,
    connections: options.connections,
    durationSeconds: options.seconds,
    scriptArgs: { pool: options.keys, value: options.valueBytes, batch: options.batch },
  });
  const perRequest = target === 'mget' ? options.batch : 1;
  const keys = result.requests * perRequest;
  return {
    round,
    target,
    requests: result.requests,
    requestsPerSecond: result.requestsPerSecond,
    keysPerSecond: result.requestsPerSecond * perRequest,
    serverCpuUsPerKey: cpuUs(cpuTicks(server.pid) - before) / Math.max(1, keys),
    // Every key was preloaded: a 404 is a failure here.
    failures: failuresOf(result) + result.status404,
  };
}

/** @slabcache/client in its own Node process (bench/client-load.mjs), bounded by --seconds plus a kill. */
function clientSample(round: number, target: 'client-get' | 'client-getMany', server: RunningServer, options: Options): Promise<Sample> {
  const before = cpuTicks(server.pid);
  const script = join(loadtestDir(), 'bench', 'client-load.mjs');
  const mode = target === 'client-get' ? 'get' : 'getMany';
  const args = [script, server.url, mode, String(options.seconds), String(options.connections), String(options.keys), String(options.batch)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), options.seconds * 1000 + 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      if (code !== 0) return reject(new Error(`client load exited with ${code}:\n${stdout}${stderr}`));
      const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        seconds: number;
        requests: number;
        keys: number;
        misses: number;
        failures: number;
        firstError?: string;
        cpuMicros: number;
      };
      if (r.failures > 0) console.error(`client ${mode}: ${r.failures} failures, first: ${r.firstError}`);
      resolve({
        round,
        target,
        requests: r.requests,
        requestsPerSecond: r.requests / r.seconds,
        keysPerSecond: r.keys / r.seconds,
        serverCpuUsPerKey: cpuUs(cpuTicks(server.pid) - before) / Math.max(1, r.keys),
        clientCpuUsPerRequest: r.cpuMicros / Math.max(1, r.requests),
        failures: r.failures + r.misses,
      });
    });
  });
}

/** redis-benchmark: pipelined GET, or MGET of --batch random keys (each __rand_int__ is drawn anew). */
async function redisSample(round: number, target: 'redis-get-p16' | 'redis-mget', redis: RunningRedis, options: Options): Promise<Sample> {
  const before = cpuTicks(redis.pid);
  const common = ['-h', '127.0.0.1', '-p', String(redis.port), '-c', String(options.connections), '-r', String(options.keys), '--csv'];
  const requests = target === 'redis-get-p16' ? options.redisRequests : Math.max(1000, Math.round(options.redisRequests / options.batch));
  const args =
    target === 'redis-get-p16'
      ? [...common, '-n', String(requests), '-P', '16', '-d', String(options.valueBytes), '-t', 'get']
      : [...common, '-n', String(requests), '-P', '1', 'MGET', ...Array.from({ length: options.batch }, () => 'key:__rand_int__')];
  const { stdout } = await execFileAsync('redis-benchmark', args, { timeout: 120_000 + requests / 5, maxBuffer: 16 * 1024 * 1024 });
  const test = parseRedisBenchmarkCsv(stdout)[0];
  if (test === undefined) throw new Error(`redis-benchmark printed no result:\n${stdout}`);
  const perRequest = target === 'redis-mget' ? options.batch : 1;
  return {
    round,
    target,
    requests,
    requestsPerSecond: test.requestsPerSecond,
    keysPerSecond: test.requestsPerSecond * perRequest,
    serverCpuUsPerKey: cpuUs(cpuTicks(redis.pid) - before) / Math.max(1, requests * perRequest),
    failures: 0,
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The median over rounds of a per-round ratio (a ratio of two medians would mix rounds). */
function pairedRatio(samples: Sample[], top: Target, bottom: Target): number {
  const ratios = samples
    .filter((s) => s.target === top)
    .map((s) => s.keysPerSecond / (samples.find((b) => b.target === bottom && b.round === s.round)?.keysPerSecond ?? NaN));
  return median(ratios);
}

function report(samples: Sample[], options: Options, machine: MachineInfo, redisVersion: string, loadAfter: number[], busy: boolean): string {
  const order: Target[] = ['get', 'mget', 'redis-get-p16', 'redis-mget', 'kvget', 'client-get', 'client-getMany'];
  const rows = order.map((target) => {
    const runs = samples.filter((s) => s.target === target);
    const kps = runs.map((s) => s.keysPerSecond);
    const clientCpu = runs.map((s) => s.clientCpuUsPerRequest ?? NaN);
    return (
      `| ${LABELS[target].replace('B keys', `${options.batch} keys`)} | ${fmt(median(kps))} (${fmt(Math.min(...kps))}–${fmt(Math.max(...kps))}) | ` +
      `${fmt(median(runs.map((s) => s.requestsPerSecond)))} | ${median(runs.map((s) => s.serverCpuUsPerKey)).toFixed(2)} | ` +
      `${Number.isNaN(clientCpu[0]) ? '–' : median(clientCpu).toFixed(1)} | ${runs.reduce((n, s) => n + s.failures, 0)} |`
    );
  });
  const mgetVsGet = pairedRatio(samples, 'mget', 'get');
  const mgetVsRedis = pairedRatio(samples, 'mget', 'redis-get-p16');
  const clientGet = pairedRatio(samples, 'client-get', 'kvget');
  const clientMany = pairedRatio(samples, 'client-getMany', 'mget');
  const label = busy
    ? '**Preliminary**: the machine was busy with other jobs during the run (see the load averages); rerun on a quiet machine.'
    : 'The machine was quiet during the run.';
  return [
    `### Run of ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    label,
    '',
    `Machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, redis ${redisVersion}, ${machine.tools['wrk'] ?? 'wrk'}. ` +
      `Load average (1/5/15 min) ${machine.loadAverage.join(' / ')} before, ${loadAfter.join(' / ')} after.`,
    '',
    `Setup: our server (the built CLI, THREADS=${options.threads ?? `default (${machine.cores})`}) and redis-server (persistence off), ` +
      `each holding ${fmt(options.keys)} preloaded keys of ${options.valueBytes}-byte values; every read hits. ${options.connections} ` +
      `connections for every load generator (wrk -t1, redis-benchmark -c, the client's pool and concurrency), ` +
      `${options.seconds} s per HTTP run, ${fmt(options.redisRequests)} redis GETs per run; ${options.rounds} rounds, the order ` +
      'reversed every other round. **The load generators share the cores with the servers.**',
    '',
    '| what | keys/s median (min–max) | requests/s | server CPU µs/key | client CPU µs/request | failures |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `- /mget with ${options.batch} keys per request reads **${mgetVsGet.toFixed(1)}×** the keys/s of single GETs (target ≥ 10×).`,
    `- /mget against redis's pipelined GET (-P 16): **${mgetVsRedis.toFixed(2)}×** its keys/s (goal ≥ 1×).`,
    `- The client against raw wrk on the same route and concurrency: get() ${clientGet.toFixed(2)}× wrk's GET /kv keys/s, ` +
      `getMany() ${clientMany.toFixed(2)}× wrk's /mget (1 = no overhead; the client is a Node process and costs CPU that wrk, in C, does not).`,
    '',
    'Ratios are per round, then the median. Server CPU: utime + stime from /proc/PID/stat of the server (all its threads) or ' +
      "redis-server, divided by the keys read. Client CPU: the client process's own `process.cpuUsage()` per request. " +
      '"failures": socket errors, non-2xx answers and misses (every key was preloaded).',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '8' },
      connections: { type: 'string', default: '50' },
      keys: { type: 'string', default: '100k' },
      'value-bytes': { type: 'string', default: '100' },
      batch: { type: 'string', default: '100' },
      threads: { type: 'string' },
      'redis-requests': { type: 'string', default: '2M' },
      out: { type: 'string' },
      'append-report': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const options: Options = {
    rounds: parseCount(values.rounds, 'rounds'),
    seconds: parseCount(values.seconds, 'seconds'),
    connections: parseCount(values.connections, 'connections'),
    keys: parseCount(values.keys, 'keys'),
    valueBytes: parseCount(values['value-bytes'], 'value-bytes'),
    batch: parseCount(values.batch, 'batch'),
    threads: values.threads === undefined ? undefined : parseCount(values.threads, 'threads'),
    redisRequests: parseCount(values['redis-requests'], 'redis-requests'),
  };
  if (options.batch > 1000) throw new Error('--batch: at most 1000 (the server\'s default MAX_BATCH_KEYS)');
  const out = values.out ?? join(paths.reportsDir(), 'batch.md');
  const machine = describeMachine();
  const maxBytes = Math.max(64 * 1024 * 1024, options.keys * (options.valueBytes + 64) * 2);

  const server = await startServer('ours', {
    limits: { maxKeys: Math.max(10_000, options.keys * 2), maxBytes },
    gcProbe: false,
    env: { LOG_LEVEL: 'warn', ...(options.threads === undefined ? {} : { THREADS: String(options.threads) }) },
  });
  let redis: RunningRedis | undefined;
  const samples: Sample[] = [];
  let redisVersion = 'unknown';
  try {
    redis = await startRedis(maxBytes);
    redisVersion = /redis_version:(\S+)/.exec(redis.cli(['info', 'server']))?.[1] ?? 'unknown';
    const filled = await preload({ url: server.url, to: options.keys, valueBytes: options.valueBytes });
    console.log(`preloaded ${fmt(filled.keys)} keys into ${server.url} (${fmt(filled.setsPerSecond)} sets/s)`);
    await fillRedis(redis, 0, options.keys, options.valueBytes);
    if (Number(redis.cli(['dbsize']).trim()) !== options.keys) throw new Error('redis does not hold every key');
    if (redis.cli(['exists', redisBenchKey(options.keys - 1)]).trim() !== '1') throw new Error('redis lacks the last key');

    const targets: Target[] = ['get', 'mget', 'redis-get-p16', 'redis-mget', 'kvget', 'client-get', 'client-getMany'];
    for (let round = 1; round <= options.rounds; round++) {
      for (const target of round % 2 === 1 ? targets : [...targets].reverse()) {
        let s: Sample;
        if (target === 'get' || target === 'mget' || target === 'kvget') s = await wrkSample(round, target, server, options);
        else if (target === 'client-get' || target === 'client-getMany') s = await clientSample(round, target, server, options);
        else s = await redisSample(round, target, redis, options);
        console.log(
          `round ${round} ${target.padEnd(14)} ${fmt(s.keysPerSecond).padStart(11)} keys/s  ${fmt(s.requestsPerSecond).padStart(9)} req/s  ` +
            `server CPU ${s.serverCpuUsPerKey.toFixed(2)} µs/key  failures ${s.failures}`,
        );
        samples.push(s);
      }
    }
  } finally {
    await redis?.stop();
    await server.stop();
  }

  const loadAfter = describeMachine().loadAverage;
  const busy = (machine.loadAverage[0] ?? 0) / machine.cores > BUSY_LOAD_PER_CORE || Math.max(...loadAfter) > machine.cores + 1;
  const text = report(samples, options, machine, redisVersion, loadAfter, busy);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `# Batches and the client: keys/s through /mget, against single GETs, redis and raw wrk\n\nWritten by \`pnpm bench:batch\` (packages/loadtest/bench/batch.ts).\n\n${text}`);
  writeFileSync(out.replace(/\.md$/, '.json'), JSON.stringify({ machine, redis: redisVersion, options, samples }, null, 2) + '\n');
  console.log(`\n${text}\nwritten to ${out}`);
  if (values['append-report']) {
    const report = join(paths.reportsDir(), 'latest.md');
    putSection(report, 'batch', 'Batches and the client (issue 17)', text);
    console.log(`and into ${report}`);
  }
  if (samples.some((s) => s.failures > 0)) {
    console.error('some runs had failures: see the table');
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
