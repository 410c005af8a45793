/**
 * The engine benchmark: this cache against lru-cache (configured as the seed
 * did), in the same run, in alternating rounds, each round in a fresh process
 * (scenario.ts). Reports medians with ratios and writes its part of
 * BENCHMARKS.md (report-file.ts: the other benchmarks' parts stay).
 *
 *   pnpm bench                       full run: 5M keys × 100 B, 3 rounds each,
 *                                    memory at 300 B, the 20M-key scale check
 *   pnpm bench -- --quick            a smoke: 200k keys, 1 round (for CI)
 *
 * Options: --keys N --ops M --rounds R --no-scale --no-huge-pages --out FILE --part ID
 *
 * `--part ID` writes the report as its own part of the file, under a heading
 * naming the Node version, instead of replacing the main results (part
 * `engine`): a run on another Node keeps the main table and sits beside it.
 *
 * Huge pages: the slabs are a SharedArrayBuffer, which Node allocates with
 * glibc's malloc, and glibc's `glibc.malloc.hugetlb=1` tunable makes malloc
 * ask the kernel for transparent huge pages (madvise) for such mappings. A
 * get at 5M keys is bound by dependent memory misses, each usually a TLB miss
 * on 4 KiB pages (PROFILE.md), so the tunable matters. It is an environment
 * setting a user makes, so the main table runs without it, and a second set
 * of rounds runs every cache (lru-cache too: same environment for all) with it.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { PhaseResult } from './workload.js';
import { cliArgs } from './cli-args.js';
import { fmt, median } from './numbers.js';
import { BENCHMARKS_TITLE, checkPartId, writePart } from './report-file.js';
import { runScenario, type ScenarioRound } from './scenario-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The part of BENCHMARKS.md that holds the main results (report-file.ts). */
const MAIN_PART = 'engine';
const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    quick: { type: 'boolean', default: false },
    keys: { type: 'string' },
    ops: { type: 'string' },
    rounds: { type: 'string' },
    'no-scale': { type: 'boolean', default: false },
    'no-huge-pages': { type: 'boolean', default: false },
    out: { type: 'string' },
    part: { type: 'string', default: MAIN_PART },
  },
});
const quick = args.quick;
checkPartId(args.part); // before the rounds, not after them
const keys = Number(args.keys ?? (quick ? 200_000 : 5_000_000));
const ops = Number(args.ops ?? (quick ? 200_000 : 1_000_000));
const rounds = Number(args.rounds ?? (quick ? 1 : 3));
const out = args.out ?? (quick ? undefined : path.join(here, '..', 'BENCHMARKS.md'));
const IMPLS = ['slab', 'slab-sieve', 'lru-cache'] as const;
type Impl = (typeof IMPLS)[number];
/** Round r runs the implementations in a rotated order, so none always goes first. */
const orderOf = (r: number): Impl[] => IMPLS.map((_, i) => IMPLS[(i + r) % IMPLS.length]!);

type Round = ScenarioRound;

/** The environment of the huge-page rounds: glibc's malloc madvises its mappings for transparent huge pages. */
const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

function runRound(impl: Impl, extra: string[], hugePages = false): Round {
  return runScenario(impl, extra, hugePages ? { ...process.env, GLIBC_TUNABLES: HUGE_PAGES_TUNABLE } : withoutTunables());
}

/** This process's environment without GLIBC_TUNABLES, so the plain rounds are plain whatever the caller's shell set. */
function withoutTunables(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  return env;
}

/** The kernel's transparent-huge-page mode, as the bracketed word in sysfs. */
function transparentHugePages(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
const MB = 1024 * 1024;

function log(line: string): void {
  process.stderr.write(line + '\n');
}

/** Throughput, GC and memory at `keys` × 100 B: `rounds` alternating rounds of every cache. */
function throughputRounds(hugePages: boolean): Record<Impl, Round[]> {
  const byImpl: Record<Impl, Round[]> = { slab: [], 'slab-sieve': [], 'lru-cache': [] };
  const pages = hugePages ? `, GLIBC_TUNABLES=${HUGE_PAGES_TUNABLE}` : '';
  for (let r = 0; r < rounds; r++) {
    for (const impl of orderOf(r)) {
      log(`${hugePages ? 'huge-page ' : ''}round ${r + 1}/${rounds}: ${impl}, ${fmt(keys)} keys × 100 B${pages}`);
      byImpl[impl].push(runRound(impl, ['--keys', String(keys), '--ops', String(ops), '--value-bytes', '100'], hugePages));
    }
  }
  return byImpl;
}

/* ---- 1. throughput with the kernel's default pages, then (1b) with huge pages for malloc'd memory (every cache) ---- */
const main = throughputRounds(false);
const huge = quick || args['no-huge-pages'] ? undefined : throughputRounds(true);

/* ---- 2. memory at a second value size (300 B) ---- */
const keys300 = Math.round(keys * 0.6);
const mem300: Record<Impl, Round[]> = { slab: [], 'slab-sieve': [], 'lru-cache': [] };
for (let r = 0; r < rounds; r++) {
  for (const impl of orderOf(r).filter((i) => i !== 'slab-sieve')) {
    log(`memory round ${r + 1}/${rounds}: ${impl}, ${fmt(keys300)} keys × 300 B`);
    mem300[impl].push(runRound(impl, ['--keys', String(keys300), '--value-bytes', '300', '--phases', 'fill']));
  }
}

/* ---- 3. scale: 20M keys in one process (ours), and where a Map stops ---- */
let scale: Round | undefined;
let mapLimit: { entries: number; error: string } | undefined;
if (!quick && !args['no-scale']) {
  log('scale: 20M keys × 100 B, slab');
  scale = runRound('slab', ['--keys', '20000000', '--value-bytes', '100', '--phases', 'fill,get', '--ops', String(ops), '--max-bytes', String(3.5 * 1024 ** 3)]);
  log('scale: filling a Map until it throws');
  const probe = `const m = new Map(); let i = 0; try { for (;;) m.set(i, i++); } catch (e) { console.log(JSON.stringify({ entries: m.size, error: String(e) })); }`;
  mapLimit = JSON.parse(execFileSync(process.execPath, ['--max-old-space-size=8192', '-e', probe], { encoding: 'utf8' }).trim());
}

/* ---- report ---- */
const phaseNames = main.slab[0]!.results.map((r) => r.phase);
const phaseOf = (impl: Impl, phase: string, pick: (p: PhaseResult) => number, rs: Record<Impl, Round[]> = main): number =>
  median(rs[impl].map((round) => pick(round.results.find((p) => p.phase === phase)!)));
const lines: string[] = [];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
lines.push(
  `Machine: ${os.cpus().length} × ${cpu}, ${fmt(os.totalmem() / 1024 ** 3)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}.`,
  `Run: ${new Date().toISOString()}, \`pnpm bench\`${quick ? ' --quick' : ''}. ${rounds} alternating round(s) per cache, each in a fresh process; medians shown.`,
  `Workload: ${fmt(keys)} keys (\`key:N\`) × 100-byte values, keys and values created per operation; ${fmt(ops)} operations per read/update phase; random keys uniform over the key space.`,
  'lru-cache 11 is configured as the seed did: `max` = key count, `maxSize` 1.5 GB, `sizeCalculation` = key + value bytes. Ours: `maxKeys` = key count, `maxBytes` 1.5 GiB; "ours" is the default policy (exact LRU), "sieve" the same cache with `policy: \'sieve\'`.',
  '',
);
const PHASE_LABELS: Record<string, string> = {
  getBytes: 'getBytes (lru-cache: get)',
  'get-many': 'getMany, 100 keys a call (lru-cache: get per key)',
  'set-many': 'setMany, 100 overwrites a call (lru-cache: set per entry)',
  'get-pool': 'get, pre-built key pool',
  'getBytes-pool': 'getBytes, pre-built key pool (lru-cache: get)',
};
function throughputTable(rs: Record<Impl, Round[]>): void {
  lines.push(
    '| phase | ours (LRU) | ours (SIEVE) | lru-cache | LRU ÷ lru-cache | SIEVE ÷ lru-cache | per round: LRU ÷ lru-cache, SIEVE ÷ lru-cache |',
    '|---|---:|---:|---:|---:|---:|---|',
  );
  for (const phase of phaseNames) {
    const a = phaseOf('slab', phase, (p) => p.opsPerSec, rs);
    const s2 = phaseOf('slab-sieve', phase, (p) => p.opsPerSec, rs);
    const b = phaseOf('lru-cache', phase, (p) => p.opsPerSec, rs);
    lines.push(`| ${PHASE_LABELS[phase] ?? phase} | ${fmt(a)} | ${fmt(s2)} | ${fmt(b)} | **${fmt(a / b, 2)}×** | **${fmt(s2 / b, 2)}×** | ${perRound(rs, phase, 'slab')}; ${perRound(rs, phase, 'slab-sieve')} |`);
  }
}

/** Each round's ratio (ours in round r ÷ lru-cache in round r): the spread behind a median on a noisy machine. */
function perRound(rs: Record<Impl, Round[]>, phase: string, impl: Impl): string {
  const rate = (round: Round): number => round.results.find((p) => p.phase === phase)!.opsPerSec;
  return rs[impl].map((round, r) => fmt(rate(round) / rate(rs['lru-cache'][r]!), 2)).join(' / ');
}
lines.push('## Throughput (operations/s)', '');
throughputTable(main);
lines.push(
  '',
  'The pre-built key pool is the case where lru-cache is strongest: its keys are the same 1,000,000 string objects',
  'every time, so V8 has hashed each once and its `Map` lookups skip hashing; ours hashes the key bytes on every call,',
  'as it must for keys that arrive from the network.',
  '',
  '`getMany` reads 100 fresh keys a call, with the same results, hits and recency changes as 100 gets; `setMany`',
  'overwrites 100 random keys a call, as 100 sets would. Both start the memory reads of each group of keys together',
  '(src/lookupWarmer.ts). lru-cache has no batch calls, so its rows are a get or a set per key: what the same batch',
  'costs with it.',
);
if (huge !== undefined) {
  const rss = (impl: Impl): number => median(huge[impl].map((r) => r.fillMemory!.rssBytes));
  lines.push(
    '',
    '## Throughput with huge pages (`GLIBC_TUNABLES=' + HUGE_PAGES_TUNABLE + '`)',
    '',
    `The same rounds again, every cache's process (lru-cache's too) started with \`GLIBC_TUNABLES=${HUGE_PAGES_TUNABLE}\`: glibc's`,
    'malloc then asks for transparent huge pages for its large mappings, which include our slabs (a SharedArrayBuffer) but',
    "not V8's heap, where lru-cache keeps its entries. Fewer TLB misses per random access is what changes (PROFILE.md).",
    'It needs the kernel\'s transparent huge pages in `madvise` or `always` mode (this machine: `' + transparentHugePages() + '`).',
    '',
  );
  throughputTable(huge);
  lines.push('', `RSS after fill in these rounds: ours ${fmt(rss('slab') / MB)} MB, lru-cache ${fmt(rss('lru-cache') / MB)} MB (**${fmt(rss('slab') / rss('lru-cache'), 2)}×**).`);
}

lines.push('', '## GC and stalls, per phase', '', '| phase | GC total ms (ours / lru) | longest GC pause ms | p99 GC pause ms | major GCs | longest stall ms (1,000-op batch) | event-loop delay max ms |', '|---|---:|---:|---:|---:|---:|---:|');
for (const phase of phaseNames) {
  const pair = (pick: (p: PhaseResult) => number, d = 0): string =>
    `${fmt(phaseOf('slab', phase, pick), d)} / ${fmt(phaseOf('lru-cache', phase, pick), d)}`;
  lines.push(
    `| ${phase} | ${pair((p) => p.gcTotalMs)} | ${pair((p) => p.gcMaxMs, 1)} | ${pair((p) => p.gcP99Ms, 1)} | ${pair((p) => p.majorGcs)} | ${pair((p) => p.maxBatchMs, 1)} | ${pair((p) => p.loopDelayMaxMs, 1)} |`,
  );
}
const gcTotal = (impl: Impl): number => median(main[impl].map((r) => r.results.reduce((s, p) => s + p.gcTotalMs, 0)));
lines.push('', `All phases: GC total ${fmt(gcTotal('slab'))} ms (ours) vs ${fmt(gcTotal('lru-cache'))} ms (lru-cache): **${fmt(gcTotal('slab') / gcTotal('lru-cache'), 2)}×**.`);

function memorySection(title: string, rs: Record<Impl, Round[]>, payload: number): void {
  const rss = (impl: Impl): number => median(rs[impl].map((r) => r.fillMemory!.rssBytes));
  const heap = (impl: Impl): number => median(rs[impl].map((r) => r.fillMemory!.heapUsedBytes));
  const n = rs.slab[0]!.size;
  const nl = rs['lru-cache'][0]!.size;
  const d = rs.slab[0]!.detail;
  lines.push('', `## ${title}`, '');
  lines.push('Resident memory added by the filled cache (RSS after fill − RSS before creating it, after 4 × `gc()` with pauses).', '');
  lines.push('| | ours | lru-cache | ratio |', '|---|---:|---:|---:|');
  lines.push(`| entries held | ${fmt(n)} | ${fmt(nl)} | |`);
  lines.push(`| RSS | ${fmt(rss('slab') / MB)} MB | ${fmt(rss('lru-cache') / MB)} MB | **${fmt(rss('slab') / rss('lru-cache'), 2)}×** |`);
  lines.push(`| bytes per entry (RSS / entries) | ${fmt(rss('slab') / n)} | ${fmt(rss('lru-cache') / nl)} | ${fmt(rss('slab') / n / (rss('lru-cache') / nl), 2)}× |`);
  lines.push(`| JS heap used | ${fmt(heap('slab') / MB, 1)} MB | ${fmt(heap('lru-cache') / MB)} MB | |`);
  lines.push('', `Our bytes per entry by component (${payload} B of key + value payload per entry):`, '');
  lines.push('| component | bytes per entry |', '|---|---:|');
  lines.push(`| key + value | ${fmt(payload, 1)} |`);
  lines.push(`| entry header (recency links, lengths, flags) | ${fmt(d.entryBytes! / n - payload, 1)} |`);
  lines.push(`| size-class rounding | ${fmt(d.wastedBytes! / n, 1)} |`);
  lines.push(`| page tails and partly filled pages | ${fmt((d.slabPageBytes! - d.usedChunkBytes!) / n, 1)} |`);
  lines.push(`| hash index (${fmt(d.indexSlots!)} slots × 8 B) | ${fmt(d.indexBytes! / n, 1)} |`);
  const total = (d.slabPageBytes! + d.indexBytes!) / n;
  lines.push(`| **total** | **${fmt(total, 1)}** |`);
}
memorySection(`Memory at ${fmt(keys)} keys × 100 B`, main, 100 + String(keys - 1).length + 4);
memorySection(`Memory at ${fmt(keys300)} keys × 300 B`, mem300, 300 + String(keys300 - 1).length + 4);

if (scale) {
  const fill = scale.results.find((p) => p.phase === 'fill')!;
  const get = scale.results.find((p) => p.phase === 'get')!;
  lines.push('', '## Scale: 20,000,000 keys in one process', '');
  lines.push(
    `Ours: ${fmt(scale.size)} entries held (maxBytes 3.5 GiB), filled at ${fmt(fill.opsPerSec)} sets/s, random gets at ${fmt(get.opsPerSec)}/s, RSS ${fmt(scale.fillMemory!.rssBytes / MB)} MB, JS heap ${fmt(scale.fillMemory!.heapUsedBytes / MB, 1)} MB, longest GC pause ${fmt(Math.max(fill.gcMaxMs, get.gcMaxMs), 1)} ms.`,
  );
  if (mapLimit) lines.push(`A JS \`Map\` (which lru-cache uses) stops at ${fmt(mapLimit.entries)} entries: \`${mapLimit.error}\`.`);
}
const part = args.part;
const report = (part === MAIN_PART ? lines : asSection(lines, part)).join('\n') + '\n';
if (out) writePart(out, part, report, BENCHMARKS_TITLE);
process.stdout.write(report);

/** A report for a part of its own: one heading naming the run's Node, and the report's headings a level below it. */
function asSection(report: readonly string[], part: string): string[] {
  return [`## The same benchmark on Node ${process.versions.node} (\`pnpm bench -- --part ${part}\`)`, '', ...report.map((line) => (line.startsWith('#') ? '#' + line : line))];
}
