/**
 * Threads benchmark: one cache shared by worker threads, against one thread
 * with a cache of its own (issue 14's targets).
 *
 * 1. Engine throughput over `keys` keys × 100 B, for each policy (LRU: every
 *    operation under the lock; SIEVE: reads without it, seqlock.ts) and two
 *    workloads (100 % get; 90 % get / 10 % set): one worker with an unshared
 *    cache (no lock at all), then 1 and 2 workers attached to one shared
 *    cache. Every worker warms up untimed; each worker runs `ops` operations;
 *    throughput = all operations / the slowest worker's time. Rounds alternate
 *    the configurations; medians are shown. This machine has 2 cores.
 * 2. Memory: one shared cache filled with `keys` keys and attached by 2 threads,
 *    against the cluster alternative, 2 processes each holding its own copy
 *    (ours, and lru-cache as the seed would run under the cluster module).
 *
 *   node --expose-gc --import tsx bench/threads.ts [--keys 1000000] [--ops 2000000] [--rounds 3] [--out FILE]
 *   (`pnpm bench:threads` runs 7 rounds: on a shared 2-core VM, 3 rounds left one-worker ratios ±15 %)
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SlabLruCache, type CacheStats, type PolicyName } from '../src/index.js';
import { startTsWorker } from '../test/support/threads.js';
import { cliArgs } from './cli-args.js';
import { fmt, median } from './numbers.js';
import { BENCHMARKS_TITLE, writePart } from './report-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  args: cliArgs(),
  options: {
    keys: { type: 'string', default: '1000000' },
    ops: { type: 'string', default: '2000000' },
    rounds: { type: 'string', default: '3' },
    'memory-only': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const keys = Number(values.keys);
const ops = Number(values.ops);
const rounds = Number(values.rounds);
const MB = 1024 * 1024;

interface WorkerResult {
  ms: number;
  stats: CacheStats;
}

/** Runs `threads` workers (attached to `shared`, or each with its own cache) and returns ops/s and the shared stats. */
async function throughput(policy: PolicyName, writeEvery: number, threads: number, shared: SlabLruCache | undefined): Promise<{ opsPerSec: number; stats: CacheStats }> {
  const workers = Array.from({ length: threads }, (_, t) =>
    startTsWorker(
      path.join(here, 'threads-worker.ts'),
      { handle: shared?.handle, keys, ops, seed: 7 + t, writeEvery, policy },
      // ES module workers: the engine runs with real module bindings, as the built package does
      // (boot.cjs's CommonJS transform turns every imported constant into a getter call).
      path.join(here, '../test/support/boot-esm.mjs'),
    ),
  );
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const done = workers.map((w) => new Promise<WorkerResult>((resolve) => w.once('message', resolve)));
  for (const w of workers) w.postMessage('go');
  const results = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  const slowest = Math.max(...results.map((r) => r.ms));
  return { opsPerSec: (ops * threads) / (slowest / 1000), stats: results[0]!.stats };
}

function filledCache(policy: PolicyName): SlabLruCache {
  const cache = new SlabLruCache({ maxKeys: keys, maxBytes: Math.max(64 * MB, keys * 160), policy });
  const value = Buffer.alloc(100, 'v');
  for (let i = 0; i < keys; i++) cache.set('key:' + i, value);
  return cache;
}

/** RSS of a child process that fills a cache and, for `shared`, attaches 2 idle threads. */
function childRss(kind: 'shared' | 'own-slab' | 'own-lru'): number {
  const script = `
    const { SlabLruCache } = await import(${JSON.stringify(path.join(here, '../src/index.ts'))});
    const { LRUCache } = await import('lru-cache');
    const { Worker } = await import('node:worker_threads');
    const keys = ${keys}; const kind = ${JSON.stringify(kind)};
    const value = 'v'.repeat(100);
    let cache;
    if (kind === 'own-lru') { cache = new LRUCache({ max: keys, maxSize: 1.5 * 1024 ** 3, sizeCalculation: (v, k) => k.length + v.length }); }
    else { cache = new SlabLruCache({ maxKeys: keys, maxBytes: Math.max(64 * 1048576, keys * 160) }); }
    for (let i = 0; i < keys; i++) cache.set('key:' + i, Buffer.from(value).toString('latin1'));
    const workers = [];
    if (kind === 'shared') for (let t = 0; t < 2; t++) workers.push(new Worker('const { workerData } = require("node:worker_threads"); globalThis.h = workerData; setInterval(() => {}, 1000);', { eval: true, execArgv: [], workerData: cache.handle }));
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 4; i++) { gc(); await new Promise((r) => setTimeout(r, 100)); }
    console.error(kind, cache.size, Math.round(process.memoryUsage().rss / 1048576));
    console.log(process.memoryUsage().rss);
    process.exit(0);
  `;
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: path.join(here, '..'), encoding: 'utf8' });
  return Number(out.trim().split('\n').at(-1));
}

/** Each round's ratio against the unshared worker of the same round: the spread behind a median on a noisy machine. */
const perRound = (rates: number[], baseline: number[]): string => rates.map((rate, r) => fmt(rate / baseline[r]!, 2)).join(' / ');

const lines: string[] = [];
if (!values['memory-only']) {
  const workloads = [
    { name: '100 % get', writeEvery: 0 },
    { name: '90 % get / 10 % set', writeEvery: 10 },
  ] as const;
  lines.push(`## Threads: engine throughput, ${fmt(keys)} keys × 100 B, ${fmt(ops)} operations per worker`, '');
  lines.push(
    `\`pnpm bench:threads\` (bench/threads.ts), ${new Date().toISOString()}, ${rounds} alternating rounds, medians. One worker with an unshared`,
    'cache (no lock) is the baseline; "attached" workers share one cache (LRU: every operation takes the lock; SIEVE:',
    'reads check the stripe sequences instead, seqlock.ts). Targets: 2 threads ≥ 1.6× on 100 % get, ≥ 1.4× on',
    '90/10; one attached worker ≥ 0.95×.',
    '',
    '| policy | workload | 1 worker, unshared | 1 worker, attached | 2 workers, attached | lock-free reads (2 workers) | per round: 1 attached ÷ unshared; 2 ÷ unshared |',
    '|---|---|---:|---:|---:|---:|---|',
  );
  for (const policy of ['lru', 'sieve'] as const) {
    const shared = filledCache(policy);
    for (const workload of workloads) {
      const own: number[] = [];
      const one: number[] = [];
      const two: number[] = [];
      let twoStats: CacheStats | undefined;
      for (let r = 0; r < rounds; r++) {
        const order = [0, 1, 2].map((i) => (i + r) % 3);
        for (const which of order) {
          process.stderr.write(`${policy}, ${workload.name}, round ${r + 1}: ${['unshared', '1 attached', '2 attached'][which]}\n`);
          if (which === 0) own.push((await throughput(policy, workload.writeEvery, 1, undefined)).opsPerSec);
          else if (which === 1) one.push((await throughput(policy, workload.writeEvery, 1, shared)).opsPerSec);
          else {
            shared.resetCounters();
            const result = await throughput(policy, workload.writeEvery, 2, shared);
            two.push(result.opsPerSec);
            twoStats = shared.stats();
          }
        }
      }
      const base = median(own);
      const reads = twoStats!.lock_free_reads;
      const tries = reads + twoStats!.lock_free_retries + twoStats!.lock_free_fallbacks;
      lines.push(
        `| ${policy} | ${workload.name} | ${fmt(base)}/s (1.00×) | ${fmt(median(one))}/s (**${fmt(median(one) / base, 2)}×**) | ${fmt(median(two))}/s (**${fmt(median(two) / base, 2)}×**) | ${policy === 'sieve' ? `${fmt((reads / Math.max(1, tries)) * 100, 1)} % of tries` : '—'} | ${perRound(one, own)}; ${perRound(two, own)} |`,
      );
    }
  }
  lines.push('');
}
const shared = childRss('shared');
const ownSlab = childRss('own-slab');
const ownLru = childRss('own-lru');
lines.push(`## Memory: ${fmt(keys)} keys served by 2 threads or 2 processes`, '');
lines.push('| setup | RSS (sum over processes) | vs one shared cache |', '|---|---:|---:|');
lines.push(`| one process, one shared cache, 2 worker threads attached | ${fmt(shared / MB)} MB | 1.00× |`);
lines.push(`| cluster: 2 processes, each its own slabcache | ${fmt((2 * ownSlab) / MB)} MB | ${fmt((2 * ownSlab) / shared, 2)}× |`);
lines.push(`| cluster: 2 processes, each its own lru-cache (the seed) | ${fmt((2 * ownLru) / MB)} MB | ${fmt((2 * ownLru) / shared, 2)}× |`);
const section = lines.join('\n') + '\n';
console.log(section);
if (values.out !== undefined) writePart(values.out, 'threads', section, BENCHMARKS_TITLE);
