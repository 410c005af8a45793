/**
 * What the router costs (issue 16): wrk through HAProxy to a local cluster of
 * N nodes, against wrk straight to one node, in the same session and in
 * alternating order, so that drift in the machine's load hits both alike.
 *
 * For each route (GET /get: random preloaded keys; POST /put: overwrites of
 * them with the seed's JSON body, which the router reads to find the key) and
 * each target, it records wrk's requests/s and latency, and the CPU time per
 * completed request of
 *   - the router: HAProxy's master and workers (utime + stime from /proc/PID/stat);
 *   - the nodes: every node process behind the router, or the one node direct.
 * The router's CPU per request is the figure that travels to another machine
 * best: requests/s and p99 depend on how wrk, HAProxy and the nodes share the
 * cores.
 *
 *   pnpm run build   # at the repository root: the nodes run packages/server/dist
 *   node --import tsx packages/loadtest/bench/router-cost.ts [--nodes 3] [--rounds 3]
 *        [--seconds 8] [--connections 50] [--wrk-threads 1] [--keys 100k] [--value-bytes 100]
 *        [--port 17380] [--out packages/loadtest/reports/cluster/router-cost.md] [--append]
 *        [--append-report]
 *
 * Ports: the router on --port, the nodes on the next N, the single node on
 * --port + 9 (17380-17389 by default). --append adds the run below the earlier
 * ones in --out instead of replacing them; --append-report also puts the run's
 * table into reports/latest.md (between markers, replacing an earlier one).
 */

import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import { findHaproxy, paths as clusterPaths, startCluster, startNode, type CacheNode, type LocalCluster } from '@slabcache/cluster';

import { parseCount, cliArgs } from '../src/cli-args.js';
import { describeMachine, type MachineInfo } from '../src/machine.js';
import { paths } from '../src/paths.js';
import { preload } from '../src/preload.js';
import { cpuTicks, TICKS_PER_SECOND } from '../src/proc-status.js';
import { putSection } from '../src/report/sections.js';
import { failuresOf, runWrk } from '../src/wrk.js';

const MODES = ['get', 'put'] as const;
type Mode = (typeof MODES)[number];
const ROUTE_NAMES: Record<Mode, string> = { get: 'GET /get', put: 'POST /put' };
type Target = 'direct' | 'router';
/** Load average (1 min, per core) above which the numbers are labelled preliminary. */
const BUSY_LOAD_PER_CORE = 0.25;
const TITLE = [
  '# The router\'s cost: HAProxy in front of slabcache nodes',
  '',
  'Written by `node --import tsx packages/loadtest/bench/router-cost.ts` (after `pnpm run build`); `--append` adds a',
  'run below the earlier ones instead of replacing them. See docs/cluster.md for the router itself.',
  '',
].join('\n');

interface Options {
  nodes: number;
  rounds: number;
  seconds: number;
  connections: number;
  wrkThreads: number;
  keys: number;
  valueBytes: number;
  port: number;
}

interface Sample {
  round: number;
  mode: Mode;
  target: Target;
  requests: number;
  requestsPerSecond: number;
  p50Us: number;
  p99Us: number;
  failures: number;
  /** HAProxy (master + workers); 0 for direct runs. */
  routerCpuUsPerRequest: number;
  /** Every node process that served the run. */
  nodeCpuUsPerRequest: number;
}

const sumTicks = (pids: readonly number[]) => pids.reduce((total, pid) => total + cpuTicks(pid), 0);

async function measure(
  round: number,
  mode: Mode,
  target: Target,
  cluster: LocalCluster,
  single: CacheNode,
  options: Options,
): Promise<Sample> {
  const url = target === 'router' ? cluster.router.url : single.url;
  const routerPids = cluster.router.pids();
  const nodePids = target === 'router' ? cluster.runningNodes().map((n) => n.child.pid) : [single.child.pid];
  const routerBefore = sumTicks(routerPids);
  const nodesBefore = sumTicks(nodePids);
  const result = await runWrk({
    url,
    mode,
    threads: options.wrkThreads,
    connections: options.connections,
    durationSeconds: options.seconds,
    scriptArgs: { pool: options.keys, value: options.valueBytes },
  });
  const perRequest = (ticks: number) => (ticks / TICKS_PER_SECOND) * 1e6 / Math.max(1, result.requests);
  return {
    round,
    mode,
    target,
    requests: result.requests,
    requestsPerSecond: result.requestsPerSecond,
    p50Us: result.latencyUs.p50,
    p99Us: result.latencyUs.p99,
    // A GET of a preloaded key never misses here: a 404 would mean a key was routed wrong.
    failures: failuresOf(result) + result.status404,
    routerCpuUsPerRequest: target === 'router' ? perRequest(sumTicks(routerPids) - routerBefore) : 0,
    nodeCpuUsPerRequest: perRequest(sumTicks(nodePids) - nodesBefore),
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (us: number): string => (us / 1000).toFixed(2);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function report(samples: Sample[], options: Options, machine: MachineInfo, haproxy: string, loadAfter: number[], busy: boolean): string {
  const rows: string[] = [];
  const summary: string[] = [];
  for (const mode of MODES) {
    const of = (target: Target) => samples.filter((s) => s.mode === mode && s.target === target);
    for (const target of ['direct', 'router'] as const) {
      const runs = of(target);
      const rps = runs.map((s) => s.requestsPerSecond);
      rows.push(
        `| ${ROUTE_NAMES[mode]} | ${target === 'direct' ? 'one node, direct' : `${options.nodes} nodes via HAProxy`} | ` +
          `${fmt(median(rps))} (${fmt(Math.min(...rps))}–${fmt(Math.max(...rps))}) | ` +
          `${ms(median(runs.map((s) => s.p50Us)))} / ${ms(median(runs.map((s) => s.p99Us)))} | ` +
          `${target === 'router' ? median(runs.map((s) => s.routerCpuUsPerRequest)).toFixed(1) : '–'} | ` +
          `${median(runs.map((s) => s.nodeCpuUsPerRequest)).toFixed(1)} | ${runs.reduce((n, s) => n + s.failures, 0)} |`,
      );
    }
    // Paired per round, then the median: a ratio of two medians would mix rounds.
    const ratios = of('router').map((r) => {
      const d = of('direct').find((s) => s.round === r.round);
      return { rps: r.requestsPerSecond / (d?.requestsPerSecond ?? NaN), p99: r.p99Us / (d?.p99Us ?? NaN) };
    });
    summary.push(
      `${ROUTE_NAMES[mode]}: via the router ${median(ratios.map((r) => r.rps)).toFixed(2)}× the requests/s of one node direct, ` +
        `p99 ${median(ratios.map((r) => r.p99)).toFixed(2)}×; HAProxy spent ` +
        `${median(of('router').map((s) => s.routerCpuUsPerRequest)).toFixed(1)} µs of CPU per request.`,
    );
  }
  const label = busy
    ? '**Preliminary**: the machine was busy with other jobs during the run (see the load averages); rerun on a quiet machine.'
    : 'The machine was quiet during the run.';
  return [
    `## Run of ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    label,
    '',
    `Machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, HAProxy ${haproxy}, ${machine.tools['wrk'] ?? 'wrk'}. ` +
      `Load average (1/5/15 min) ${machine.loadAverage.join(' / ')} before, ${loadAfter.join(' / ')} after.`,
    '',
    `Setup: ${options.nodes} nodes (the built server, THREADS=1 each) behind HAProxy (deploy/haproxy/slabcache.cfg, its default ` +
      `threads), and one more node alone, all on 127.0.0.1; ${fmt(options.keys)} keys of ${options.valueBytes}-byte values ` +
      `written through the router to the cluster and straight to the single node. wrk -t${options.wrkThreads} ` +
      `-c${options.connections} -d${options.seconds}s per route and target (GET: random preloaded keys; PUT: overwrites, ` +
      `the seed's JSON /put), ${options.rounds} rounds, the target that goes first alternating by round. ` +
      '**wrk, HAProxy and the nodes share the same cores**, so requests/s and p99 are what this machine allows for the ' +
      'whole chain; the CPU per request is the steadier figure.',
    '',
    '| route | target | req/s median (min–max) | latency p50 / p99 ms | router CPU µs/req | node CPU µs/req | failures |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...summary.map((line) => `- ${line}`),
    '',
    'CPU per request: utime + stime from /proc/PID/stat (HAProxy master and workers; every node that served the run) ' +
      'divided by the requests wrk completed. "failures" counts socket errors, non-2xx answers, and 404s (every key was ' +
      'preloaded, so a 404 would be a key routed to the wrong node).',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      nodes: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '8' },
      connections: { type: 'string', default: '50' },
      'wrk-threads': { type: 'string', default: '1' },
      keys: { type: 'string', default: '100k' },
      'value-bytes': { type: 'string', default: '100' },
      port: { type: 'string', default: '17380' },
      out: { type: 'string' },
      append: { type: 'boolean', default: false },
      'append-report': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const options: Options = {
    nodes: parseCount(values.nodes, 'nodes'),
    rounds: parseCount(values.rounds, 'rounds'),
    seconds: parseCount(values.seconds, 'seconds'),
    connections: parseCount(values.connections, 'connections'),
    wrkThreads: parseCount(values['wrk-threads'], 'wrk-threads'),
    keys: parseCount(values.keys, 'keys'),
    valueBytes: parseCount(values['value-bytes'], 'value-bytes'),
    port: parseCount(values.port, 'port'),
  };
  if (options.nodes > 8) throw new Error('--nodes: at most 8 (the single node takes --port + 9)');
  const out = values.out ?? join(paths.reportsDir(), 'cluster', 'router-cost.md');
  const machine = describeMachine();
  const haproxy = findHaproxy();
  const nodeEnv = { THREADS: '1', MAX_KEYS: String(Math.max(10_000, options.keys * 2)), MAX_BYTES: String(512 * 1024 * 1024), LOG_LEVEL: 'warn' };

  const cluster = await startCluster({ nodes: options.nodes, port: options.port, haproxy, nodeEnv });
  let single: CacheNode | undefined;
  const samples: Sample[] = [];
  try {
    single = await startNode({
      id: 0,
      host: '127.0.0.1',
      port: options.port + 9,
      command: [process.execPath, clusterPaths.serverCli()],
      env: nodeEnv,
    });
    for (const url of [cluster.router.url, single.url]) {
      const filled = await preload({ url, to: options.keys, valueBytes: options.valueBytes });
      console.log(`preloaded ${fmt(filled.keys)} keys into ${url} (${fmt(filled.setsPerSecond)} sets/s)`);
    }
    for (let round = 1; round <= options.rounds; round++) {
      const order: Target[] = round % 2 === 1 ? ['direct', 'router'] : ['router', 'direct'];
      for (const mode of MODES) {
        for (const target of order) {
          const s = await measure(round, mode, target, cluster, single, options);
          console.log(
            `round ${round} ${ROUTE_NAMES[mode].padEnd(9)} ${target.padEnd(6)} ${fmt(s.requestsPerSecond)} req/s  ` +
              `p50 ${ms(s.p50Us)} ms  p99 ${ms(s.p99Us)} ms  router CPU ${s.routerCpuUsPerRequest.toFixed(1)} µs/req  ` +
              `node CPU ${s.nodeCpuUsPerRequest.toFixed(1)} µs/req  failures ${s.failures}`,
          );
          samples.push(s);
        }
      }
    }
  } finally {
    await single?.stop();
    await cluster.stop();
  }

  const loadAfter = describeMachine().loadAverage;
  // The benchmark itself loads the machine; count only what it cannot explain.
  const busy = (machine.loadAverage[0] ?? 0) / machine.cores > BUSY_LOAD_PER_CORE || Math.max(...loadAfter) > machine.cores + 1;
  const text = report(samples, options, machine, haproxy.version, loadAfter, busy);
  mkdirSync(dirname(out), { recursive: true });
  if (values.append && existsSync(out)) appendFileSync(out, `\n${text}`);
  else writeFileSync(out, `${TITLE}\n${text}`);
  writeFileSync(out.replace(/\.md$/, '.json'), JSON.stringify({ machine, haproxy: haproxy.version, options, samples }, null, 2) + '\n');
  console.log(`\n${text}\nwritten to ${out}`);
  if (values['append-report']) {
    const report = join(paths.reportsDir(), 'latest.md');
    putSection(report, 'router-cost', 'Behind a router (issue 16)', text.replace(/^## Run of/m, '### Run of'));
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
