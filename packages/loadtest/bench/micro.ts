/**
 * Microbenchmarks: the engine (SlabLruCache) against lru-cache 11 (configured
 * as the seed configures it: max + maxSize + sizeCalculation) and a plain Map,
 * in one process, with the `benchmark` package (ops/s ± relative margin of
 * error at 95%).
 *
 * Phases, each its own suite, data built before any timing (as lru-cache's own
 * benchmark/worker.js does):
 *   update    set() of keys already present (a full cache of K keys)
 *   get-hit   get() of present keys, in a shuffled order
 *   get-miss  get() of absent keys
 *   evict     set() of new keys into a full cache: every call evicts one entry
 *
 * The Map is the floor, not a competitor: it has no recency order, and in
 * `evict` it drops its oldest insertion (FIFO), which is cheaper than LRU.
 * Values are strings of `valueBytes` ASCII bytes; the engine copies them in and
 * decodes them out of its slabs on every call, the others keep a reference.
 */

import Benchmark from 'benchmark';
import { SlabLruCache } from '@slabcache/engine';
import { LRUCache } from 'lru-cache';

import { makeValue } from '../src/keys.js';
import type { MicroResult, MicroSuite } from '../src/results.js';

export interface MicroOptions {
  keys: number;
  valueBytes: number;
  /** Seconds each benchmark may run (benchmark.js maxTime). */
  maxTime: number;
  /** Only these phases (default all). */
  phases?: readonly Phase[];
}

export const PHASES = ['update', 'get-hit', 'get-miss', 'evict'] as const;
export type Phase = (typeof PHASES)[number];

/** The three operations every implementation offers here. */
interface Subject {
  name: string;
  set(key: string, value: string): void;
  get(key: string): string | undefined;
}

function slabcache(capacity: number, valueBytes: number): Subject {
  const cache = new SlabLruCache({ maxKeys: capacity, maxBytes: Math.max(64 * 1024 ** 2, capacity * (valueBytes + 64) * 2) });
  return { name: 'slabcache', set: (k, v) => void cache.set(k, v), get: (k) => cache.get(k) };
}

function lruCache(capacity: number): Subject {
  const cache = new LRUCache<string, string>({
    max: capacity,
    maxSize: 1.5 * 1024 ** 3,
    sizeCalculation: (value, key) => Buffer.byteLength(key) + Buffer.byteLength(value),
  });
  return { name: 'lru-cache', set: (k, v) => void cache.set(k, v), get: (k) => cache.get(k) };
}

function boundedMap(capacity: number): Subject {
  const map = new Map<string, string>();
  // Insertion order kept in a ring of keys: `map.keys().next()` after many
  // deletes walks V8's deleted-entry holes and turns each eviction into a scan.
  const ring: string[] = new Array<string>(capacity);
  let oldest = 0;
  return {
    name: 'Map',
    set: (k, v) => {
      if (!map.has(k)) {
        if (map.size >= capacity) map.delete(ring[oldest] as string);
        ring[oldest] = k;
        oldest = (oldest + 1) % capacity;
      }
      map.set(k, v);
    },
    get: (k) => map.get(k),
  };
}

function shuffled(count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  let seed = 0x9e3779b9;
  for (let i = count - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const j = seed % (i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

function makeSubjects(capacity: number, valueBytes: number): Subject[] {
  return [slabcache(capacity, valueBytes), lruCache(capacity), boundedMap(capacity)];
}

function runSuite(name: string, cases: { subject: Subject; fn: () => void }[], maxTime: number, log: (l: string) => void): Promise<MicroResult[]> {
  return new Promise((resolve, reject) => {
    const suite = new Benchmark.Suite(name);
    for (const { subject, fn } of cases) suite.add(subject.name, fn, { maxTime, minSamples: 5 });
    const results: MicroResult[] = [];
    suite.on('cycle', (event: Benchmark.Event) => {
      const bench = event.target as unknown as Benchmark & { error?: Error };
      if (bench.error) {
        reject(bench.error);
        return;
      }
      log(`${name.padEnd(8)} ${String(bench)}`);
      results.push({
        phase: name,
        impl: String(bench.name),
        opsPerSecond: bench.hz ?? 0,
        rmePercent: bench.stats?.rme ?? NaN,
        samples: bench.stats?.sample.length ?? 0,
      });
    });
    suite.on('complete', () => resolve(results));
    suite.run({ async: false });
  });
}

export async function runMicro(options: MicroOptions, log: (line: string) => void): Promise<MicroSuite> {
  const { keys, valueBytes } = options;
  const value = makeValue(valueBytes);
  const present = Array.from({ length: keys }, (_, i) => `key-${i}`);
  const absent = Array.from({ length: keys }, (_, i) => `miss-${i}`);
  const order = shuffled(keys);
  const phases = options.phases ?? PHASES;
  const results: MicroResult[] = [];

  for (const phase of phases) {
    const subjects = makeSubjects(keys, valueBytes);
    for (const subject of subjects) for (const key of present) subject.set(key, value);
    let cases: { subject: Subject; fn: () => void }[];
    switch (phase) {
      case 'update':
        cases = subjects.map((subject) => {
          let i = 0;
          return { subject, fn: () => subject.set(present[order[i++ % keys] as number] as string, value) };
        });
        break;
      case 'get-hit':
        cases = subjects.map((subject) => {
          let i = 0;
          return {
            subject,
            fn: () => {
              if (subject.get(present[order[i++ % keys] as number] as string) === undefined) throw new Error(`${subject.name}: miss on a present key`);
            },
          };
        });
        break;
      case 'get-miss':
        cases = subjects.map((subject) => {
          let i = 0;
          return {
            subject,
            fn: () => {
              if (subject.get(absent[i++ % keys] as string) !== undefined) throw new Error(`${subject.name}: hit on an absent key`);
            },
          };
        });
        break;
      case 'evict':
        cases = subjects.map((subject) => {
          // New keys forever: the key string is built in the timed loop for every subject alike.
          let i = 0;
          return { subject, fn: () => subject.set(`new-${i++}`, value) };
        });
        break;
    }
    results.push(...(await runSuite(phase, cases, options.maxTime, log)));
  }
  return { keys, valueBytes, results };
}
