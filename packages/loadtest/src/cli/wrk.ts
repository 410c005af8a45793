/**
 * `pnpm --filter @slabcache/loadtest wrk`: headline numbers for one server with
 * wrk: preload a pool, then GET, PUT and the 90/10 mix over it, printing
 * requests/s, latency p50/p90/p99/max, 404s apart from other non-2xx answers,
 * and the server's RSS (VmRSS, VmHWM) before and after each run.
 *
 * Without --url it starts the server itself (--server ours|baseline); with
 * --url it loads that server, and reads its memory if given --pid.
 *
 *   --server ours  --url URL --pid PID  --keys 100k (preload; 0 = none)  --pool N
 *   --routes get,put,mix  --duration 10  --threads 1  --connections 50
 *   --value-bytes 100  --put-percent 10  --max-keys N  --json FILE
 *
 * Exits 1 on any failure (non-2xx other than 404, or a socket error).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { optionalCount, parseChoiceList, parseCount, cliArgs } from '../cli-args.js';
import { preload } from '../preload.js';
import { Progress } from '../progress.js';
import { readProcessMemory, type ProcessMemory } from '../proc-status.js';
import type { Route } from '../results.js';
import { startServer, type RunningServer, type ServerKind } from '../server-process.js';
import { failuresOf, runWrk, type WrkResult } from '../wrk.js';

function memoryText(memory: ProcessMemory | undefined): string {
  return memory ? `RSS ${(memory.rssKiB / 1024).toFixed(0)} MiB (peak ${(memory.hwmKiB / 1024).toFixed(0)} MiB)` : 'RSS n/a';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      server: { type: 'string', default: 'ours' },
      url: { type: 'string' },
      pid: { type: 'string' },
      keys: { type: 'string', default: '100k' },
      pool: { type: 'string' },
      routes: { type: 'string', default: 'get,put,mix' },
      duration: { type: 'string', default: '10' },
      threads: { type: 'string', default: '1' },
      connections: { type: 'string', default: '50' },
      'value-bytes': { type: 'string', default: '100' },
      'put-percent': { type: 'string', default: '10' },
      'max-keys': { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const keys = parseCount(values.keys, 'keys');
  const pool = optionalCount(values.pool, 'pool') ?? Math.max(keys, 1);
  const valueBytes = parseCount(values['value-bytes'], 'value-bytes');
  const maxKeys = optionalCount(values['max-keys'], 'max-keys');
  const routes = parseChoiceList<Route>(values.routes, ['get', 'put', 'mix'], 'routes');
  const threads = parseCount(values.threads, 'threads');
  const connections = parseCount(values.connections, 'connections');

  let server: RunningServer | undefined;
  try {
    let url = values.url;
    let pid = optionalCount(values.pid, 'pid');
    if (url === undefined) {
      const [kind] = parseChoiceList<ServerKind>(values.server, ['ours', 'baseline'], 'server');
      server = await startServer(kind ?? 'ours', maxKeys === undefined ? {} : { limits: { maxKeys } });
      url = server.url;
      pid = server.pid;
      console.log(`started ${server.kind} on ${url} (pid ${pid})`);
    }
    const memory = (): ProcessMemory | undefined => (pid === undefined ? undefined : readProcessMemory(pid));
    console.log(`idle: ${memoryText(memory())}`);
    if (keys > 0) {
      const filled = await preload({
        url,
        to: keys,
        valueBytes,
        threads,
        connections,
        expectEvictions: maxKeys !== undefined && keys > maxKeys,
        progress: { display: new Progress(), label: 'preload' },
      });
      console.log(`preloaded ${keys} keys: ${Math.round(filled.setsPerSecond)} sets/s over ${filled.seconds.toFixed(1)} s; ${memoryText(memory())}`);
    }
    const results: { route: Route; before?: ProcessMemory; after?: ProcessMemory; wrk: WrkResult }[] = [];
    let failed = 0;
    for (const route of routes) {
      const before = memory();
      const wrk = await runWrk({
        url,
        mode: route,
        threads,
        connections,
        durationSeconds: parseCount(values.duration, 'duration'),
        scriptArgs: { pool, value: valueBytes, putpct: parseCount(values['put-percent'], 'put-percent') },
      });
      const after = memory();
      failed += failuresOf(wrk);
      const l = wrk.latencyUs;
      console.log(
        `${route.padEnd(3)} ${Math.round(wrk.requestsPerSecond).toString().padStart(7)} req/s  ` +
          `p50 ${(l.p50 / 1000).toFixed(2)} ms  p90 ${(l.p90 / 1000).toFixed(2)} ms  p99 ${(l.p99 / 1000).toFixed(2)} ms  max ${(l.max / 1000).toFixed(1)} ms  ` +
          `2xx ${wrk.status2xx}  404 ${wrk.status404}  other ${wrk.statusOther}  socket errors ${failuresOf(wrk) - wrk.statusOther}  ` +
          `| before ${memoryText(before)}, after ${memoryText(after)}`,
      );
      results.push({ route, ...(before ? { before } : {}), ...(after ? { after } : {}), wrk });
    }
    if (values.json) {
      mkdirSync(dirname(values.json), { recursive: true });
      writeFileSync(values.json, JSON.stringify({ url, keys, pool, valueBytes, threads, connections, results }, null, 2));
    }
    if (failed > 0) {
      console.error(`FAILED: ${failed} failed requests`);
      process.exitCode = 1;
    }
  } finally {
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
