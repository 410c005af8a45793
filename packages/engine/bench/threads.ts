/**
 * Threads benchmark: one cache shared by worker threads.
 *
 * 1. Engine throughput of a 90/10 get/set mix over `keys` keys: one thread
 *    without the lock (the cache never shared), then 1 and 2 worker threads on
 *    one shared cache (every operation locked). This machine has 2 cores.
 * 2. Memory: one shared cache filled with `keys` keys and attached by 2 threads,
 *    against the cluster alternative, 2 processes each holding its own copy
 *    (ours, and lru-cache as the seed would run under the cluster module).
 *
 *   node --expose-gc --import tsx bench/threads.ts [--keys 1000000] [--ops 2000000]
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SlabLruCache } from '../src/index.js';
import { startTsWorker } from '../test/support/threads.js';
import { makeKeyPicker } from './workload.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { keys: { type: 'string', default: '1000000' }, ops: { type: 'string', default: '2000000' }, 'memory-only': { type: 'boolean', default: false } } });
const keys = Number(values.keys);
const ops = Number(values.ops);
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const MB = 1024 * 1024;

function filledCache(): SlabLruCache {
  const cache = new SlabLruCache({ maxKeys: keys, maxBytes: Math.max(64 * MB, keys * 160) });
  const value = Buffer.alloc(100, 'v');
  for (let i = 0; i < keys; i++) cache.set('key:' + i, value);
  return cache;
}

async function sharedThroughput(cache: SlabLruCache, threads: number): Promise<number> {
  const perThread = Math.floor(ops / threads);
  const workers = Array.from({ length: threads }, (_, t) =>
    startTsWorker(
      path.join(here, 'threads-worker.ts'),
      { handle: cache.handle, keys, ops: perThread, seed: 7 + t },
      path.join(here, '../test/support/boot.cjs'),
    ),
  );
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const start = performance.now();
  const done = workers.map((w) => new Promise((resolve) => w.once('message', resolve)));
  for (const w of workers) w.postMessage('go');
  await Promise.all(done);
  const elapsed = performance.now() - start;
  await Promise.all(workers.map((w) => w.terminate()));
  return (perThread * threads) / (elapsed / 1000);
}

function unlockedThroughput(cache: SlabLruCache): number {
  const value = Buffer.alloc(100, 'v');
  const pick = makeKeyPicker(7);
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const key = 'key:' + pick(keys);
    if (i % 10 === 0) cache.set(key, value);
    else cache.get(key);
  }
  return ops / ((performance.now() - start) / 1000);
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

const lines: string[] = [];
if (!values['memory-only']) {
  const cache = filledCache();
  const single = unlockedThroughput(cache);
  const one = await sharedThroughput(cache, 1);
  const two = await sharedThroughput(cache, 2);
  lines.push(`## Engine throughput, ${fmt(keys)} keys × 100 B, 90 % get / 10 % set, ${fmt(ops)} operations`, '');
  lines.push('| configuration | ops/s | vs 1 thread unlocked |', '|---|---:|---:|');
  lines.push(`| 1 thread, cache not shared (no lock) | ${fmt(single)} | 1.00× |`);
  lines.push(`| 1 worker thread, shared cache (locked) | ${fmt(one)} | ${fmt(one / single, 2)}× |`);
  lines.push(`| 2 worker threads, one shared cache | ${fmt(two)} | ${fmt(two / single, 2)}× |`);
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
console.log(lines.join('\n'));
