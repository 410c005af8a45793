/**
 * `pnpm --filter @slabcache/loadtest preload --url http://127.0.0.1:7171 --keys 1M`:
 * fills a running server with keys `key-<from>` … `key-<keys - 1>` through
 * POST /put over keep-alive connections (wrk), then reads a sample back.
 * Shows keys written, keys/s and an ETA while it runs (a status line on a
 * terminal, a line every 10 s otherwise; src/progress.ts).
 *
 *   --url URL (required)  --keys N  --from 0  --value-bytes 100  --threads 2
 *   --connections 50  --timeout SECONDS  --expect-evictions
 */

import { parseArgs } from 'node:util';

import { optionalCount, parseCount, cliArgs } from '../cli-args.js';
import { preload } from '../preload.js';
import { Progress } from '../progress.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      url: { type: 'string' },
      keys: { type: 'string', default: '100k' },
      from: { type: 'string', default: '0' },
      'value-bytes': { type: 'string', default: '100' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      timeout: { type: 'string' },
      'expect-evictions': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.url) throw new TypeError('--url is required (e.g. --url http://127.0.0.1:7171)');
  const timeoutSeconds = optionalCount(values.timeout, 'timeout');
  const result = await preload({
    url: values.url,
    from: parseCount(values.from, 'from'),
    to: parseCount(values.keys, 'keys'),
    valueBytes: parseCount(values['value-bytes'], 'value-bytes'),
    threads: parseCount(values.threads, 'threads'),
    connections: parseCount(values.connections, 'connections'),
    expectEvictions: values['expect-evictions'],
    progress: { display: new Progress(), label: 'preload' },
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
  });
  console.log(
    `preloaded ${result.keys} keys (${result.from}..${result.to - 1}) in ${result.seconds.toFixed(1)} s: ` +
      `${Math.round(result.setsPerSecond)} sets/s; read back ${result.verified.found} of ${result.verified.sampled} sampled keys`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
