/**
 * `pnpm --filter @slabcache/loadtest bench`: runs the microbenchmarks in
 * micro.ts and prints ops/s ± error per phase and implementation, plus the
 * engine's ratio to lru-cache measured in the same process.
 *
 *   --keys 100k  --value-bytes 100  --max-time 2  --phases update,get-hit,get-miss,evict  --json FILE
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { parseChoiceList, parseCount, cliArgs } from '../src/cli-args.js';
import { PHASES, runMicro, type Phase } from './micro.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      keys: { type: 'string', default: '100k' },
      'value-bytes': { type: 'string', default: '100' },
      'max-time': { type: 'string', default: '2' },
      phases: { type: 'string', default: PHASES.join(',') },
      json: { type: 'string' },
    },
    strict: true,
  });
  const suite = await runMicro(
    {
      keys: parseCount(values.keys, 'keys'),
      valueBytes: parseCount(values['value-bytes'], 'value-bytes'),
      maxTime: Number(values['max-time']),
      phases: parseChoiceList<Phase>(values.phases, PHASES, 'phases'),
    },
    (line) => console.log(line),
  );
  console.log('\nslabcache ÷ lru-cache (ops/s, same process):');
  for (const phase of new Set(suite.results.map((r) => r.phase))) {
    const ours = suite.results.find((r) => r.phase === phase && r.impl === 'slabcache');
    const theirs = suite.results.find((r) => r.phase === phase && r.impl === 'lru-cache');
    if (ours && theirs) console.log(`  ${phase.padEnd(8)} ${(ours.opsPerSecond / theirs.opsPerSecond).toFixed(2)}×`);
  }
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, JSON.stringify(suite, null, 2));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
