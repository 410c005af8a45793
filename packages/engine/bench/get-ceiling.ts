/**
 * How fast could a get be? Splits a get's time into work and waiting, in one
 * process, for this engine (exact LRU and SIEVE) and lru-cache 11:
 *
 *   work     the same gets on a cache of 10,000 keys, where everything stays
 *            in the CPU's caches;
 *   total    gets on a cache of 5,000,000 keys × 100 B (the benchmark's size);
 *   waiting  total − work: what the get spends on memory.
 *
 * From those it prints the most a get of ours could gain on lru-cache's if it
 * did no work at all (lru-cache's total ÷ our waiting), and the work it may do
 * to reach issue 13's 2× (LRU) and issue 15's 2.5× (SIEVE). For scale, it
 * also times what one get must do whatever the cache: make its 100-byte
 * value string from the slab (Buffer#latin1Slice). Keys are fresh `key:N`
 * strings, values flat 100-byte strings, as in bench/scenario.ts.
 *
 *   node --expose-gc --max-old-space-size=8192 --import tsx bench/get-ceiling.ts
 */

import { LRUCache } from 'lru-cache';

import { SlabLruCache } from '../src/index.js';
import { makeKeyPicker, makeValueMaker } from './workload.js';

const SMALL = 10_000;
const BIG = 5_000_000;
const OPS = 1_000_000;
const VALUE_BYTES = 100;

type Kind = 'lru' | 'sieve' | 'lru-cache';
const KINDS: readonly Kind[] = ['lru', 'sieve', 'lru-cache'];
const TARGETS: Record<'lru' | 'sieve', number> = { lru: 2, sieve: 2.5 };

interface Gettable {
  get(key: string): string | undefined;
}

const freshValue = makeValueMaker(VALUE_BYTES);
const randomBelow = makeKeyPicker(12345);

function build(kind: Kind, keys: number): Gettable {
  const cache =
    kind === 'lru-cache'
      ? new LRUCache<string, string>({ max: keys })
      : new SlabLruCache({ maxKeys: keys, maxBytes: Math.max(64 * 2 ** 20, keys * 160), policy: kind });
  for (let i = 0; i < keys; i++) cache.set('key:' + i, freshValue(i));
  return cache;
}

/** ns per get of a random present key. */
function timeGets(cache: Gettable, keys: number): number {
  let hits = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) if (cache.get('key:' + randomBelow(keys)) !== undefined) hits++;
  const ns = Number(process.hrtime.bigint() - start) / OPS;
  if (hits !== OPS) throw new Error(`expected only hits, got ${OPS - hits} misses`);
  return ns;
}

/** ns per 100-byte string made from a SharedArrayBuffer at SMALL random places (in the CPU's caches). */
function timeValueStrings(): number {
  const arena = Buffer.from(new SharedArrayBuffer(SMALL * 128)).fill('v'.charCodeAt(0)) as Buffer & { latin1Slice(start: number, end: number): string };
  let length = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) {
    const at = randomBelow(SMALL) * 128;
    length += arena.latin1Slice(at, at + VALUE_BYTES).length;
  }
  const ns = Number(process.hrtime.bigint() - start) / OPS;
  if (length !== OPS * VALUE_BYTES) throw new Error('short value');
  return ns;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const work: Record<Kind, number[]> = { lru: [], sieve: [], 'lru-cache': [] };
const total: Record<Kind, number[]> = { lru: [], sieve: [], 'lru-cache': [] };
for (const kind of KINDS) {
  const small = build(kind, SMALL);
  for (let round = 0; round < 5; round++) work[kind].push(timeGets(small, SMALL));
}
const valueString = median([0, 1, 2, 3, 4].map(timeValueStrings));
for (const kind of KINDS) {
  process.stderr.write(`${kind}: filling ${BIG.toLocaleString('en-US')} keys\n`);
  const big = build(kind, BIG);
  for (let round = 0; round < 3; round++) total[kind].push(timeGets(big, BIG));
  gc();
}

const ns = (x: number): string => `${Math.round(x)} ns`;
const theirs = median(total['lru-cache']);
console.log(`| | work (${SMALL.toLocaleString('en-US')} keys) | get at ${BIG.toLocaleString('en-US')} keys | waiting | ÷ lru-cache | ÷ lru-cache with no work | work allowed for the target |`);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const kind of ['lru', 'sieve'] as const) {
  const w = median(work[kind]);
  const t = median(total[kind]);
  const waiting = t - w;
  const allowed = theirs / TARGETS[kind] - waiting;
  console.log(
    `| ours, ${kind} | ${ns(w)} | ${ns(t)} | ${ns(waiting)} | ${(theirs / t).toFixed(2)}× | ${(theirs / waiting).toFixed(2)}× | ${allowed > 0 ? ns(allowed) : 'none'} for ${TARGETS[kind]}× |`,
  );
}
console.log(`| lru-cache 11 | ${ns(median(work['lru-cache']))} | ${ns(theirs)} | ${ns(theirs - median(work['lru-cache']))} | | | |`);
console.log(`\nMaking one ${VALUE_BYTES}-byte value string from the slab (latin1Slice): ${ns(valueString)}.`);
console.log('Rounds (ns), work / total:');
for (const kind of KINDS) console.log(`  ${kind}: ${work[kind].map(Math.round).join(', ')} / ${total[kind].map(Math.round).join(', ')}`);
