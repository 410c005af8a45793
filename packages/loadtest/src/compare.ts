/**
 * The HTTP comparison: our server and the baseline peer, started side by side
 * in the same session, filled to the same sizes through their APIs, then loaded
 * with wrk in alternating rounds.
 *
 *   start both servers (GC probe loaded into each)
 *   for each size N, ascending:
 *     fill both from the previous size to N (POST /put, keep-alive, wrk)
 *     record RSS / heap / GC of each fill
 *     repeat `rounds` times:
 *       for each route (get, put, mix):
 *         run wrk on A, then on B; the round's parity decides which goes first
 *
 * Alternating within a round means a disturbance on this shared machine (a
 * build next door, a GC storm) lands on both servers instead of on one, and
 * each round gives one paired ratio. GET and PUT draw keys uniformly from the
 * whole filled pool, so GETs hit and PUTs overwrite: the cache size stays N.
 */

import type { ComparisonSettings, FillRun, HttpComparison, HttpRun, Route } from './results.js';
import { freshGcSnapshot, gcDelta, sampleMemory } from './memory.js';
import { preload } from './preload.js';
import type { Progress } from './progress.js';
import { startServer, type RunningServer } from './server-process.js';
import { failuresOf, runWrk } from './wrk.js';

export interface ComparisonConfig extends ComparisonSettings {
  /** THREADS for our server (HTTP threads sharing one cache); the baseline has no such setting. */
  ourThreads: number;
}

export type Log = (line: string) => void;

async function fillTo(server: RunningServer, fromKeys: number, toKeys: number, config: ComparisonConfig, progress?: Progress): Promise<FillRun> {
  const gcBefore = server.readGc();
  const startedMs = Date.now();
  // A fill can take minutes: if the server dies meanwhile, stop at once instead of waiting out wrk's bound.
  const serverWatch = new AbortController();
  const watcher = setInterval(() => {
    if (!server.isAlive()) serverWatch.abort(new Error(`${server.kind} server died during the fill:\n${server.output()}`));
  }, 1000);
  let result;
  try {
    result = await preload({
      url: server.url,
      from: fromKeys,
      to: toKeys,
      valueBytes: config.valueBytes,
      threads: config.threads,
      connections: config.connections,
      expectEvictions: toKeys > config.maxKeys,
      signal: serverWatch.signal,
      ...(progress ? { progress: { display: progress, label: `fill ${server.kind}` } } : {}),
    });
  } finally {
    clearInterval(watcher);
  }
  const endedMs = Date.now();
  const gcAfter = await freshGcSnapshot(server, endedMs);
  const gc = gcDelta(gcBefore, gcAfter, startedMs, endedMs);
  return {
    server: server.kind,
    fromKeys,
    toKeys,
    seconds: result.seconds,
    setsPerSecond: result.setsPerSecond,
    failures: result.failures,
    memoryAfter: sampleMemory(server),
    ...(gc ? { gc } : {}),
  };
}

async function timedRun(server: RunningServer, route: Route, keys: number, round: number, config: ComparisonConfig): Promise<HttpRun> {
  const memoryBefore = sampleMemory(server);
  const gcBefore = server.readGc();
  const startedMs = Date.now();
  const wrk = await runWrk({
    url: server.url,
    mode: route,
    threads: config.threads,
    connections: config.connections,
    durationSeconds: config.durationSeconds,
    scriptArgs: { pool: keys, value: config.valueBytes, putpct: config.putPercentInMix },
  });
  const endedMs = Date.now();
  const memoryAfter = sampleMemory(server);
  const gc = gcDelta(gcBefore, await freshGcSnapshot(server, endedMs), startedMs, endedMs);
  return {
    server: server.kind,
    route,
    keys,
    round,
    requestsPerSecond: wrk.requestsPerSecond,
    requests: wrk.requests,
    durationSeconds: wrk.durationSeconds,
    latencyUs: wrk.latencyUs,
    status404: wrk.status404,
    statusOther: wrk.statusOther,
    socketErrors: failuresOf(wrk) - wrk.statusOther,
    memoryBefore,
    memoryAfter,
    ...(gc ? { gc } : {}),
  };
}

/** Seconds the comparison will take at most, not counting fills (which depend on the servers' speed). */
export function timedSecondsOf(config: ComparisonConfig): number {
  return config.sizes.length * config.rounds * config.routes.length * config.servers.length * (config.durationSeconds + 1.5);
}

/**
 * `progress`, if given, shows the timed runs done (with an ETA) and each fill's
 * keys; `log` should then print through it (progress.log) so that its lines
 * and the status line do not overwrite each other on a terminal.
 */
export async function runComparison(config: ComparisonConfig, log: Log, progress?: Progress): Promise<HttpComparison> {
  const sizes = [...config.sizes].sort((a, b) => a - b);
  const servers: RunningServer[] = [];
  const runsTask = progress?.task('timed runs', {
    unit: 'runs',
    total: sizes.length * config.rounds * config.routes.length * config.servers.length,
    // Runs take seconds each and fills minutes: a rate over a few minutes.
    rateWindowMs: 5 * 60_000,
    summary: false,
  });
  try {
    for (const kind of config.servers) {
      const server = await startServer(kind, {
        limits: { maxKeys: config.maxKeys, maxBytes: config.maxBytes },
        ...(kind === 'ours' ? { env: { THREADS: String(config.ourThreads) } } : {}),
      });
      servers.push(server);
      // The probe writes its first snapshot within a second; the first fill's GC delta needs it.
      await freshGcSnapshot(server, 0);
      log(`started ${kind} on ${server.url} (pid ${server.pid})`);
    }
    const idleMemory = Object.fromEntries(servers.map((s) => [s.kind, sampleMemory(s)])) as HttpComparison['idleMemory'];
    const fills: FillRun[] = [];
    const runs: HttpRun[] = [];
    let filled = 0;
    for (const size of sizes) {
      for (const server of servers) {
        log(`fill ${server.kind}: keys ${filled} to ${size} ...`);
        const fill = await fillTo(server, filled, size, config, progress);
        fills.push(fill);
        log(
          `fill ${server.kind}: ${Math.round(fill.setsPerSecond)} sets/s over ${fill.seconds.toFixed(1)} s, ` +
            `RSS ${(fill.memoryAfter.rssKiB / 1024).toFixed(0)} MiB` +
            (fill.gc ? `, GC ${fill.gc.totalMs.toFixed(0)} ms (worst pause ${fill.gc.maxPauseMs.toFixed(0)} ms)` : ''),
        );
      }
      filled = size;
      for (let round = 1; round <= config.rounds; round++) {
        const order = round % 2 === 1 ? servers : [...servers].reverse();
        for (const route of config.routes) {
          for (const server of order) {
            if (!server.isAlive()) throw new Error(`${server.kind} server died:\n${server.output()}`);
            const run = await timedRun(server, route, size, round, config);
            runs.push(run);
            runsTask?.add(1);
            log(
              `N=${size} round ${round} ${route.padEnd(3)} ${server.kind.padEnd(8)} ` +
                `${Math.round(run.requestsPerSecond).toString().padStart(7)} req/s  ` +
                `p50 ${(run.latencyUs.p50 / 1000).toFixed(2)} ms  p99 ${(run.latencyUs.p99 / 1000).toFixed(2)} ms  ` +
                `404 ${run.status404}  failed ${run.statusOther + run.socketErrors}`,
            );
          }
        }
      }
    }
    return {
      config: { ...config, sizes },
      idleMemory,
      fills,
      runs,
    };
  } finally {
    runsTask?.end();
    for (const server of servers) await server.stop();
  }
}
