/**
 * Calibration: the engine, the calibration prototype (calibration/minimal-lru.ts:
 * an off-heap exact LRU with no features) and lru-cache, on the same phases as
 * `pnpm bench` (scenario.ts, each round in a fresh process, implementations in
 * a rotated order per round). Where the prototype's ratio to lru-cache is no
 * better than ours, the target is bound by the machine; where it is better,
 * the gap is work our implementation does.
 *
 *   node --import tsx bench/calibrate.ts [--keys 5000000] [--ops 1000000] [--rounds 3]
 *
 * Prints a Markdown table (medians, each round's ratio beside them); writes nothing.
 */

import { parseArgs } from 'node:util';
import { cliArgs } from './cli-args.js';
import { fmt, median } from './numbers.js';
import { runScenario, type ScenarioRound } from './scenario-process.js';

const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    keys: { type: 'string', default: '5000000' },
    ops: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
  },
});
const IMPLS = ['slab', 'minimal-lru', 'lru-cache'] as const;
type Impl = (typeof IMPLS)[number];
const PHASES = ['fill', 'get', 'getBytes', 'overwrite', 'evict'];
const rounds = Number(args.rounds);

function runRound(impl: Impl): ScenarioRound {
  return runScenario(impl, ['--keys', args.keys, '--ops', args.ops, '--phases', PHASES.join(',')]);
}

const runs: Record<Impl, ScenarioRound[]> = { slab: [], 'minimal-lru': [], 'lru-cache': [] };
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < IMPLS.length; i++) {
    const impl = IMPLS[(i + r) % IMPLS.length]!;
    process.stderr.write(`round ${r + 1}: ${impl}\n`);
    runs[impl].push(runRound(impl));
  }
}

const rate = (impl: Impl, r: number, phase: string): number => runs[impl][r]!.results.find((p) => p.phase === phase)!.opsPerSec;
const ratios = (impl: Impl, phase: string): number[] => runs[impl].map((_, r) => rate(impl, r, phase) / rate('lru-cache', r, phase));
const rss = (impl: Impl): number => median(runs[impl].map((round) => round.fillMemory!.rssBytes));

const lines = [
  `${fmt(Number(args.keys))} keys × 100 B, ${fmt(Number(args.ops))} operations per read/update phase, ${rounds} rounds, Node ${process.version}; ratios against lru-cache in the same round.`,
  '',
  '| phase | ours (LRU) | prototype | lru-cache | ours ÷ lru-cache | prototype ÷ lru-cache | per round: ours; prototype |',
  '|---|---:|---:|---:|---:|---:|---|',
];
for (const phase of PHASES) {
  const m = (impl: Impl): number => median(runs[impl].map((_, r) => rate(impl, r, phase)));
  const perRound = (impl: Impl): string => ratios(impl, phase).map((x) => fmt(x, 2)).join(' / ');
  lines.push(
    `| ${phase} | ${fmt(m('slab'))} | ${fmt(m('minimal-lru'))} | ${fmt(m('lru-cache'))} | **${fmt(median(ratios('slab', phase)), 2)}×** | **${fmt(median(ratios('minimal-lru', phase)), 2)}×** | ${perRound('slab')}; ${perRound('minimal-lru')} |`,
  );
}
const MB = 1024 * 1024;
lines.push(
  `| RSS after fill | ${fmt(rss('slab') / MB)} MB | ${fmt(rss('minimal-lru') / MB)} MB | ${fmt(rss('lru-cache') / MB)} MB | **${fmt(rss('slab') / rss('lru-cache'), 2)}×** | **${fmt(rss('minimal-lru') / rss('lru-cache'), 2)}×** | |`,
);
process.stdout.write(`${lines.join('\n')}\n`);
