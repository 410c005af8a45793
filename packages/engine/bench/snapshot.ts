/**
 * Snapshot benchmark: saving and loading this cache's snapshots against what a
 * user of the seed has today, lru-cache's `dump()` + `load()` serialised as
 * JSON to a file, in the same run. Each implementation runs in a fresh child
 * process (so one's heap does not slow the other), one after the other.
 *
 * Phases, per implementation, over N keys × 100-byte values:
 *   fill    build the cache (not timed against anything, reported)
 *   save    to a file, durably: write, fsync, rename (both sides)
 *   load    from that file into a new cache, until it can serve
 *   stall   a save again, while a timer-driven load of gets and sets runs
 *           on every event-loop turn: the longest gap between two turns is
 *           the longest time requests would have waited
 *
 *   node --expose-gc --import tsx bench/snapshot.ts                 1M keys, writes its part of SNAPSHOTS.md
 *   node --expose-gc --import tsx bench/snapshot.ts --keys 5000000  5M keys, its own part (report-file.ts)
 *   node --expose-gc --import tsx bench/snapshot.ts --quick         100k keys, no file written
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readFile, rename, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LRUCache } from 'lru-cache';

import { SlabLruCache, loadSnapshot, saveSnapshot } from '../src/index.js';
import { cliArgs } from './cli-args.js';
import { writePart } from './report-file.js';

const SNAPSHOTS_TITLE = '# Snapshot benchmark';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    child: { type: 'string' },
    keys: { type: 'string' },
    dir: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const VALUE_BYTES = 100;
const IMPLS = ['slabcache', 'lru-cache JSON'] as const;
type Impl = (typeof IMPLS)[number];

interface Result {
  impl: Impl;
  keys: number;
  fillMs: number;
  saveMs?: number;
  fileBytes?: number;
  loadMs?: number;
  loadedEntries?: number;
  /** Longest synchronous stretch of the save, as measured by the saver itself. */
  saveLongestStepMs?: number;
  stallMaxGapMs?: number;
  stallP99GapMs?: number;
  /** slabcache: the longest save step during the save under load (the rest of a gap is the load's turn, GC or the OS). */
  stallLongestStepMs?: number;
  stallLoopDelayMaxMs?: number;
  stallSaveMs?: number;
  opsDuringSave?: number;
  /** Records written while the cache was changing (slabcache: entries re-visited count twice). */
  stallRecords?: number;
  /** lru-cache only: its own dump() (quadratic), timed at a bounded size. */
  dumpAsShippedMs?: number;
  dumpAsShippedKeys?: number;
  error?: string;
}

/* ---- workload ---- */

const keyOf = (i: number): string => `key:${i}`;
/** A 100-byte ASCII value that differs per key. */
const valueOf = (i: number): string => `${i}:`.padEnd(VALUE_BYTES, 'abcdefghij');

/** xorshift, so that both implementations see the same access sequence. */
function makeRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * Runs `save` while, on every event-loop turn, 100 gets and 20 sets hit the
 * cache; returns the longest gap between two turns and the event-loop delay.
 */
async function underLoad(
  keys: number,
  get: (key: string) => unknown,
  set: (key: string, value: string) => unknown,
  save: () => Promise<unknown>,
): Promise<{ maxGapMs: number; p99GapMs: number; loopDelayMaxMs: number; saveMs: number; ops: number; saved: unknown }> {
  const random = makeRandom(7);
  let running = true;
  let ops = 0;
  let last = performance.now();
  let maxGapMs = 0;
  let gaps: number[] = [];
  const turn = (): void => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    gaps.push(now - last);
    last = now;
    for (let n = 0; n < 100; n++) get(keyOf(Math.floor(random() * keys)));
    for (let n = 0; n < 20; n++) {
      const i = Math.floor(random() * keys);
      set(keyOf(i), valueOf(i));
    }
    ops += 120;
    if (running) setImmediate(turn);
  };
  // The histogram records from its second tick on: enable it during the warm-up, reset it at the start.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // Warm up the load first, so that the first turns' compilation is not counted as a stall.
  setImmediate(turn);
  await new Promise((resolve) => setTimeout(resolve, 200));
  delay.reset();
  // reset() forgets the last tick too: let one tick pass, or a stall right away would not be recorded.
  await new Promise((resolve) => setTimeout(resolve, 5));
  maxGapMs = 0;
  gaps = [];
  last = performance.now();
  const opsBefore = ops;
  const started = performance.now();
  const saved = await save();
  const saveMs = performance.now() - started;
  running = false;
  delay.disable();
  gaps.sort((a, b) => a - b);
  const p99GapMs = gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * 0.99))] ?? 0;
  return { maxGapMs, p99GapMs, loopDelayMaxMs: delay.max / 1e6, saveMs, ops: ops - opsBefore, saved };
}

/* ---- the two implementations, each in its own process ---- */

async function runSlab(keys: number, dir: string): Promise<Result> {
  const options = { maxKeys: keys, maxBytes: Math.max(64 << 20, Math.ceil(keys * 160)) };
  let started = performance.now();
  const cache = new SlabLruCache(options);
  for (let i = 0; i < keys; i++) cache.set(keyOf(i), valueOf(i));
  const fillMs = performance.now() - started;
  const file = path.join(dir, 'slab.snap');
  global.gc?.();

  const saved = await saveSnapshot(cache, file);
  global.gc?.();
  started = performance.now();
  const { cache: loaded } = await loadSnapshot(file, options);
  const loadMs = performance.now() - started;
  if (loaded.size !== keys || loaded.get(keyOf(keys - 1)) !== valueOf(keys - 1)) throw new Error('slabcache: loaded cache differs');
  global.gc?.();

  const stall = await underLoad(keys, (k) => cache.get(k), (k, v) => cache.set(k, v), () => saveSnapshot(cache, file));
  const stallSave = stall.saved as Awaited<ReturnType<typeof saveSnapshot>>;
  return {
    impl: 'slabcache',
    keys,
    fillMs,
    saveMs: saved.durationMs,
    fileBytes: saved.bytes,
    saveLongestStepMs: saved.longestStepMs,
    loadMs,
    loadedEntries: loaded.size,
    stallMaxGapMs: stall.maxGapMs,
    stallP99GapMs: stall.p99GapMs,
    stallLongestStepMs: stallSave.longestStepMs,
    stallLoopDelayMaxMs: stall.loopDelayMaxMs,
    stallSaveMs: stall.saveMs,
    opsDuringSave: stall.ops,
    stallRecords: stallSave.records,
  };
}

/**
 * lru-cache's dump() as it would be without its quadratic `arr.unshift` (see
 * DUMP_AS_SHIPPED_KEYS): the same [key, { value }] pairs, least recent first,
 * in linear time. This is the generous version of the alternative.
 */
function linearDump(cache: LRUCache<string, string>): Array<[string, { value: string }]> {
  const pairs: Array<[string, { value: string }]> = [];
  for (const [key, value] of cache.entries()) pairs.push([key, { value }]);
  return pairs.reverse();
}

/**
 * lru-cache 11.5.3's dump() builds its array with `unshift`, which is
 * quadratic: a probe on the shared 2-core machine measured 100k keys 3.5 s,
 * 200k 4.7 s, 400k 28 s (times vary with heap state); at 1M it takes minutes. It is timed as shipped at no more than this many keys,
 * and the JSON comparison uses linearDump.
 */
const DUMP_AS_SHIPPED_KEYS = 200_000;

/** What a seed user writes: the dump as JSON, written durably (fsync + rename, as the snapshot does). */
async function saveLruJson(cache: LRUCache<string, string>, file: string): Promise<number> {
  const syncStart = performance.now();
  const json = JSON.stringify(linearDump(cache));
  const syncMs = performance.now() - syncStart;
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w');
  await handle.writeFile(json);
  await handle.sync();
  await handle.close();
  await rename(temporary, file);
  return syncMs;
}

async function runLruCache(keys: number, dir: string): Promise<Result> {
  let started = performance.now();
  const cache = new LRUCache<string, string>({ max: keys });
  for (let i = 0; i < keys; i++) cache.set(keyOf(i), valueOf(i));
  const fillMs = performance.now() - started;
  const file = path.join(dir, 'lru.json');
  global.gc?.();
  const result: Result = { impl: 'lru-cache JSON', keys, fillMs };
  try {
    started = performance.now();
    result.saveLongestStepMs = await saveLruJson(cache, file);
    result.saveMs = performance.now() - started;
    result.fileBytes = (await stat(file)).size;
    global.gc?.();

    started = performance.now();
    const entries = JSON.parse(await readFile(file, 'utf8')) as Parameters<LRUCache<string, string>['load']>[0];
    const loaded = new LRUCache<string, string>({ max: keys });
    loaded.load(entries);
    result.loadMs = performance.now() - started;
    result.loadedEntries = loaded.size;
    if (loaded.get(keyOf(keys - 1)) !== valueOf(keys - 1)) throw new Error('lru-cache: loaded cache differs');
    global.gc?.();

    const stall = await underLoad(keys, (k) => cache.get(k), (k, v) => cache.set(k, v), () => saveLruJson(cache, file));
    result.stallMaxGapMs = stall.maxGapMs;
    result.stallP99GapMs = stall.p99GapMs;
    result.stallLongestStepMs = stall.saved as number;
    result.stallLoopDelayMaxMs = stall.loopDelayMaxMs;
    result.stallSaveMs = stall.saveMs;
    result.opsDuringSave = stall.ops;
    result.stallRecords = keys;

    const shippedKeys = Math.min(keys, DUMP_AS_SHIPPED_KEYS);
    const small = new LRUCache<string, string>({ max: shippedKeys });
    for (let i = 0; i < shippedKeys; i++) small.set(keyOf(i), valueOf(i));
    started = performance.now();
    small.dump();
    result.dumpAsShippedMs = performance.now() - started;
    result.dumpAsShippedKeys = shippedKeys;
  } catch (error) {
    // JSON.stringify of a dump past V8's longest string (~512 MiB) throws RangeError: a real limit users hit.
    result.error = `${(error as Error).name}: ${(error as Error).message}`;
  }
  return result;
}

/* ---- the parent: run each in a fresh process, report ---- */

function runChild(impl: Impl, keys: number, dir: string): Result {
  const heapMb = Math.max(4096, Math.ceil((keys * 1200) / 1e6));
  const output = execFileSync(
    process.execPath,
    [`--max-old-space-size=${heapMb}`, '--expose-gc', '--import', 'tsx', path.join(here, 'snapshot.ts'), '--child', impl, '--keys', String(keys), '--dir', dir],
    { cwd: path.join(here, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  const line = output.trim().split('\n').pop()!;
  return JSON.parse(line) as Result;
}

const fmt = (n: number | undefined, digits = 0): string => (n === undefined ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const mb = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : bytes / 1e6);
const perSecond = (amount: number | undefined, ms: number | undefined): number | undefined =>
  amount === undefined || ms === undefined ? undefined : amount / (ms / 1000);
const ratio = (a: number | undefined, b: number | undefined, better: 'lower' | 'higher'): string => {
  if (a === undefined || b === undefined || a === 0 || b === 0) return '—';
  return `${(better === 'lower' ? b / a : a / b).toFixed(1)}× ${better === 'lower' ? 'less' : 'more'}`;
};

function table(slab: Result, lru: Result): string {
  const rows: [string, string, string, string][] = [
    ['save: time (ms), write + fsync + rename', fmt(slab.saveMs), fmt(lru.saveMs), ratio(slab.saveMs, lru.saveMs, 'lower')],
    ['save: file size (MB)', fmt(mb(slab.fileBytes), 1), fmt(mb(lru.fileBytes), 1), ratio(slab.fileBytes, lru.fileBytes, 'lower')],
    ['save: MB/s of file', fmt(perSecond(mb(slab.fileBytes), slab.saveMs)), fmt(perSecond(mb(lru.fileBytes), lru.saveMs)), '—'],
    ['save: entries/s', fmt(perSecond(slab.keys, slab.saveMs)), fmt(perSecond(lru.keys, lru.saveMs)), ratio(perSecond(slab.keys, slab.saveMs), perSecond(lru.keys, lru.saveMs), 'higher')],
    ['save: longest synchronous step (ms)', fmt(slab.saveLongestStepMs, 1), fmt(lru.saveLongestStepMs, 1), ratio(slab.saveLongestStepMs, lru.saveLongestStepMs, 'lower')],
    ['load: time until serving (ms)', fmt(slab.loadMs), fmt(lru.loadMs), ratio(slab.loadMs, lru.loadMs, 'lower')],
    ['load: MB/s of file', fmt(perSecond(mb(slab.fileBytes), slab.loadMs)), fmt(perSecond(mb(lru.fileBytes), lru.loadMs)), '—'],
    ['load: entries/s', fmt(perSecond(slab.keys, slab.loadMs)), fmt(perSecond(lru.keys, lru.loadMs)), ratio(perSecond(slab.keys, slab.loadMs), perSecond(lru.keys, lru.loadMs), 'higher')],
    ['save under load: longest gap between turns (ms)', fmt(slab.stallMaxGapMs, 1), fmt(lru.stallMaxGapMs, 1), ratio(slab.stallMaxGapMs, lru.stallMaxGapMs, 'lower')],
    ['save under load: p99 gap between turns (ms)', fmt(slab.stallP99GapMs, 1), fmt(lru.stallP99GapMs, 1), '—'],
    ['save under load: longest save step (ms)', fmt(slab.stallLongestStepMs, 1), fmt(lru.stallLongestStepMs, 1), ratio(slab.stallLongestStepMs, lru.stallLongestStepMs, 'lower')],
    ['save under load: event-loop delay max (ms)', fmt(slab.stallLoopDelayMaxMs, 1), fmt(lru.stallLoopDelayMaxMs, 1), ratio(slab.stallLoopDelayMaxMs, lru.stallLoopDelayMaxMs, 'lower')],
    ['save under load: time (ms)', fmt(slab.stallSaveMs), fmt(lru.stallSaveMs), '—'],
    ['save under load: gets+sets served meanwhile', fmt(slab.opsDuringSave), fmt(lru.opsDuringSave), '—'],
    ['save under load: records written', fmt(slab.stallRecords), fmt(lru.stallRecords), '—'],
    ['fill (ms, for reference)', fmt(slab.fillMs), fmt(lru.fillMs), '—'],
  ];
  const lines = [
    `| ${fmt(slab.keys)} keys × ${VALUE_BYTES} B | slabcache snapshot | lru-cache pairs as JSON | slabcache vs lru-cache |`,
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  if (lru.dumpAsShippedMs !== undefined) {
    lines.push(
      '',
      `lru-cache's own \`dump()\` builds its array with \`unshift\` (quadratic): ${fmt(lru.dumpAsShippedMs)} ms for ` +
        `${fmt(lru.dumpAsShippedKeys)} keys in this run, minutes at 1M. The lru-cache column uses the same ` +
        '`[key, { value }]` pairs built in linear time instead (`entries()` reversed), which favours lru-cache.',
    );
  }
  if (lru.error !== undefined) lines.push('', `lru-cache JSON failed: \`${lru.error}\``);
  return lines.join('\n');
}

async function parent(): Promise<void> {
  const keys = Number(args.keys ?? (args.quick ? 100_000 : 1_000_000));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'snapshot-bench-'));
  try {
    const slab = runChild('slabcache', keys, dir);
    const lru = runChild('lru-cache JSON', keys, dir);
    const report = table(slab, lru);
    process.stdout.write(`${report}\n`);
    const out = args.out ?? (args.quick ? undefined : path.join(here, '..', 'SNAPSHOTS.md'));
    if (out !== undefined) writeReport(out, report, keys);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeReport(out: string, report: string, keys: number): void {
  const cpus = os.cpus();
  const load = os.loadavg().map((n) => n.toFixed(1)).join(' ');
  const section = [
    `## ${keys.toLocaleString('en-US')} keys × ${VALUE_BYTES} B`,
    '',
    `Measured ${new Date().toISOString()} on ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${load}.`,
    '**Preliminary:** the machine was shared with other builds and benchmarks while this ran; rerun on a quiet machine.',
    '',
    report,
    '',
  ].join('\n');
  const head = [
    'Generated by `node --expose-gc --import tsx bench/snapshot.ts` (see the file comment). Each side runs in a fresh',
    'process; both write durably (fsync + rename). The lru-cache side is what a user of the seed has today:',
    "the dump's `[key, { value }]` pairs as JSON in a file, and `cache.load(JSON.parse(file))` (the pairs are",
    "built in linear time, not with lru-cache's quadratic `dump()`: see the note under each table). \"Longest gap between turns\" is",
    'how long requests could have waited while a save ran under a timer-driven load of gets and sets (100 gets +',
    '20 sets per event-loop turn). The format and guarantees are in docs/snapshots.md.',
    '',
    'Reading the numbers:',
    '',
    '- The snapshot is saved in blocks of at most 4,096 entries (about 1 MiB), one per event-loop turn, so the',
    '  longest pause is one block whatever the cache size. The JSON side must build and stringify everything in',
    '  one synchronous step, which grows with the cache.',
    '- At 5M keys the JSON side fails: the JSON text (about 640 MB) is longer than the longest string V8 can build',
    '  (about 512 MiB), so `JSON.stringify` throws `RangeError: Invalid string length`. The only way around that',
    '  is to write a format of your own.',
    '- Loading checks the whole file, then rebuilds the cache from the newest record back (docs/snapshots.md):',
    '  superseded and deleted records take no room, and other options and smaller caches work. It runs before',
    '  the server listens.',
    '- "Records written" is more than the key count under load: entries that are read or set after the cursor',
    '  passed them are written again, and changes behind the cursor add tombstones and updates, so that the file',
    '  holds the cache exactly as it was when the save ended.',
    '',
  ].join('\n');
  // One part for the explanation, one per key count: a run replaces its own key count's results only.
  writePart(out, 'about', head, SNAPSHOTS_TITLE);
  writePart(out, `keys-${keys}`, section, SNAPSHOTS_TITLE);
  process.stdout.write(`wrote ${out}\n`);
}

async function child(impl: Impl): Promise<void> {
  const keys = Number(args.keys);
  const dir = args.dir!;
  const result = impl === 'slabcache' ? await runSlab(keys, dir) : await runLruCache(keys, dir);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (args.child !== undefined) {
  if (!(IMPLS as readonly string[]).includes(args.child)) throw new Error(`unknown --child ${args.child}`);
  await child(args.child as Impl);
} else {
  await parent();
}
