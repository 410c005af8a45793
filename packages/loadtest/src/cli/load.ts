/**
 * `pnpm load` (root) / `pnpm --filter @slabcache/loadtest load`: a bounded,
 * headless Locust run with CSV and HTML reports.
 *
 * Without --host it starts a server itself (ours by default, or --server
 * baseline) on 127.0.0.1 in its port range, preloads the key pool through the
 * API, runs Locust, and stops the server. With --host it loads that server
 * as it is (add --preload to fill the pool first).
 *
 *   --host URL  --server ours|baseline  --users 50  --spawn-rate 50  --time 30s
 *   --pool 100k  --value-bytes 100  --put-weight 1  --get-weight 9  --preload
 *   --max-keys N (started server only)  --out-dir reports/locust  --name PREFIX
 *
 * Exits 1 on any failure other than an expected 404 (a miss), or if Locust
 * exits non-zero or sent nothing.
 */

import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { optionalCount, parseChoiceList, parseCount, cliArgs } from '../cli-args.js';
import { runLocust } from '../locust.js';
import { paths } from '../paths.js';
import { preload } from '../preload.js';
import { Progress } from '../progress.js';
import { startServer, type RunningServer, type ServerKind } from '../server-process.js';

export function parseDurationSeconds(text: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match?.[1]) throw new TypeError(`--time must look like 30s, 5m or 1h, got ${JSON.stringify(text)}`);
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600 } as const)[(match[2] ?? 's') as 's' | 'm' | 'h'];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      host: { type: 'string' },
      server: { type: 'string', default: 'ours' },
      users: { type: 'string', default: '50' },
      'spawn-rate': { type: 'string', default: '50' },
      time: { type: 'string', default: '30s' },
      pool: { type: 'string', default: '100k' },
      'value-bytes': { type: 'string', default: '100' },
      'put-weight': { type: 'string', default: '1' },
      'get-weight': { type: 'string', default: '9' },
      preload: { type: 'boolean' },
      'max-keys': { type: 'string' },
      'out-dir': { type: 'string' },
      name: { type: 'string' },
    },
    strict: true,
  });
  const [kind] = parseChoiceList<ServerKind>(values.server, ['ours', 'baseline'], 'server');
  const pool = parseCount(values.pool, 'pool');
  const valueBytes = parseCount(values['value-bytes'], 'value-bytes');
  const runTimeSeconds = parseDurationSeconds(values.time);
  const maxKeys = optionalCount(values['max-keys'], 'max-keys');

  let server: RunningServer | undefined;
  try {
    let host = values.host;
    if (host === undefined) {
      server = await startServer(kind ?? 'ours', maxKeys === undefined ? {} : { limits: { maxKeys } });
      host = server.url;
      console.log(`started ${server.kind} server on ${host} (pid ${server.pid})`);
    }
    if (server || values.preload) {
      const filled = await preload({
        url: host,
        to: pool,
        valueBytes,
        expectEvictions: maxKeys !== undefined && pool > maxKeys,
        progress: { display: new Progress(), label: 'preload' },
      });
      console.log(`preloaded ${filled.keys} keys in ${filled.seconds.toFixed(1)} s (${Math.round(filled.setsPerSecond)} sets/s)`);
    }
    const name = values.name ?? `${server?.kind ?? 'external'}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const reportPrefix = join(values['out-dir'] ?? join(paths.reportsDir(), 'locust'), name);
    console.log(`locust: ${values.users} users for ${runTimeSeconds} s against ${host} ...`);
    const result = await runLocust({
      host,
      users: parseCount(values.users, 'users'),
      spawnRate: parseCount(values['spawn-rate'], 'spawn-rate'),
      runTimeSeconds,
      keyPool: pool,
      valueBytes,
      putWeight: parseCount(values['put-weight'], 'put-weight'),
      getWeight: parseCount(values['get-weight'], 'get-weight'),
      reportPrefix,
    });
    for (const r of [...result.routes, result.total]) {
      console.log(
        `${r.name.padEnd(10)} ${String(r.requests).padStart(8)} requests  ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s  ` +
          `median ${r.medianMs} ms  p95 ${r.p95Ms} ms  p99 ${r.p99Ms} ms  max ${Math.round(r.maxMs)} ms  failures ${r.failures}`,
      );
    }
    console.log(`GET misses (404, expected): ${result.getMisses}`);
    console.log(`reports: ${result.csv}, ${result.html}`);
    const problems: string[] = [];
    if (result.total.failures > 0) problems.push(`${result.total.failures} failed requests:\n${result.failureLines.join('\n')}`);
    if (result.exitCode !== 0) problems.push(`locust exited with ${result.exitCode}`);
    if (!(result.total.requests > 0)) problems.push('locust sent no requests');
    if (server && !server.isAlive()) problems.push(`the server died:\n${server.output()}`);
    if (problems.length) {
      console.error(`FAILED: ${problems.join('; ')}`);
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
