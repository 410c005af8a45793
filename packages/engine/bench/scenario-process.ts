/**
 * Runs one benchmark round of scenario.ts in a fresh Node process and returns
 * the JSON line it prints: a fresh process per round keeps each round's RSS
 * and GC figures about one cache only. Used by run.ts (`pnpm bench`) and
 * calibrate.ts.
 */

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchImpl } from './adapters.js';
import type { PhaseResult } from './workload.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** What scenario.ts prints for one round. */
export interface ScenarioRound {
  impl: BenchImpl;
  keys: number;
  valueBytes: number;
  size: number;
  fillMemory?: { rssBytes: number; heapUsedBytes: number; externalBytes: number };
  detail: Record<string, number>;
  results: PhaseResult[];
}

/** scenario.ts `--impl impl` with the extra arguments, in a child process with environment `env`. */
export function runScenario(impl: BenchImpl, extra: readonly string[], env: NodeJS.ProcessEnv = process.env): ScenarioRound {
  const argv = ['--max-old-space-size=8192', '--expose-gc', '--import', 'tsx', path.join(here, 'scenario.ts'), '--impl', impl, ...extra];
  const stdout = execFileSync(process.execPath, argv, { cwd: path.join(here, '..'), encoding: 'utf8', maxBuffer: 1 << 24, env });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ScenarioRound;
}
