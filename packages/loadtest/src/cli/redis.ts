/**
 * `pnpm --filter @slabcache/loadtest redis`: the redis-server + redis-benchmark
 * reference (see src/redis.ts).
 *
 *   --sizes 100k  --value-bytes 100  --clients 50  --requests 200k  --json FILE
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { parseCount, parseCountList, cliArgs } from '../cli-args.js';
import { Progress } from '../progress.js';
import { runRedisReference } from '../redis.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      sizes: { type: 'string', default: '100k' },
      'value-bytes': { type: 'string', default: '100' },
      clients: { type: 'string', default: '50' },
      requests: { type: 'string', default: '200k' },
      'max-bytes': { type: 'string', default: String(1.5 * 1024 ** 3) },
      json: { type: 'string' },
    },
    strict: true,
  });
  const progress = new Progress();
  const results = await runRedisReference(
    {
      sizes: parseCountList(values.sizes, 'sizes'),
      valueBytes: parseCount(values['value-bytes'], 'value-bytes'),
      clients: parseCount(values.clients, 'clients'),
      requests: parseCount(values.requests, 'requests'),
      maxBytes: parseCount(values['max-bytes'], 'max-bytes'),
    },
    (line) => progress.log(line),
    progress,
  );
  for (const r of results) {
    console.log(`redis ${r.version} N=${r.keys}: RSS ${(r.memory.rssKiB / 1024).toFixed(0)} MiB, used_memory ${(r.memory.usedMemoryBytes / 1024 ** 2).toFixed(0)} MiB`);
  }
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, JSON.stringify(results, null, 2));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
