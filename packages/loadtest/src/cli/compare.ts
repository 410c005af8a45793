/**
 * `pnpm --filter @slabcache/loadtest compare`: our server against the baseline
 * over HTTP with wrk, alternating rounds (see src/compare.ts), printing each run
 * and the median ratios, and optionally writing the results as JSON.
 *
 *   --sizes 1M,5M  --rounds 3  --duration 10  --routes get,put,mix
 *   --threads 1  --connections 50  --value-bytes 100  --put-percent 10
 *   --max-keys 5M  --max-bytes 1610612736  --servers ours,baseline  --json FILE
 *
 * Exits 1 if any run had a failure (a non-2xx answer other than 404, or a
 * socket error).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { COMPARE_OPTIONS, comparisonConfigFrom } from '../compare-options.js';
import { runComparison, timedSecondsOf } from '../compare.js';
import { Progress } from '../progress.js';
import { summarizeHttp } from '../report/summary.js';
import { cliArgs } from '../cli-args.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: { ...COMPARE_OPTIONS, json: { type: 'string' } },
    strict: true,
  });
  const config = comparisonConfigFrom(values);
  console.log(`timed part: about ${Math.round(timedSecondsOf(config))} s, plus the fills`);
  const progress = new Progress();
  const http = await runComparison(config, (line) => progress.log(line), progress);
  const summary = summarizeHttp(http);
  console.log('\nmedian req/s and ratio ours/baseline (paired by round):');
  for (const row of summary.rows) {
    console.log(
      `N=${row.keys} ${row.route.padEnd(3)} ours ${row.ours ? Math.round(row.ours.requestsPerSecond) : 'n/a'}  ` +
        `baseline ${row.baseline ? Math.round(row.baseline.requestsPerSecond) : 'n/a'}  ratio ${row.ratio?.median.toFixed(2) ?? 'n/a'}`,
    );
  }
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, JSON.stringify(http, null, 2));
    console.log(`results written to ${values.json}`);
  }
  const failed = http.runs.reduce((n, r) => n + r.statusOther + r.socketErrors, 0) + http.fills.reduce((n, f) => n + f.failures, 0);
  if (failed > 0) {
    console.error(`FAILED: ${failed} failed requests (non-2xx other than 404, or socket errors)`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
