/**
 * Command-line options of the HTTP comparison, shared by `compare` and the
 * full report (src/cli/report.ts), and their translation into a
 * ComparisonConfig.
 */

import { availableParallelism } from 'node:os';

import { optionalCount, parseChoiceList, parseCount, parseCountList } from './cli-args.js';
import type { ComparisonConfig } from './compare.js';
import type { Route } from './results.js';
import type { ServerKind } from './server-process.js';

export const COMPARE_OPTIONS = {
  sizes: { type: 'string', default: '100k' },
  rounds: { type: 'string', default: '3' },
  duration: { type: 'string', default: '10' },
  routes: { type: 'string', default: 'get,put,mix' },
  threads: { type: 'string', default: '1' },
  connections: { type: 'string', default: '50' },
  'value-bytes': { type: 'string', default: '100' },
  'put-percent': { type: 'string', default: '10' },
  'max-keys': { type: 'string', default: '5M' },
  'max-bytes': { type: 'string', default: String(1.5 * 1024 ** 3) },
  servers: { type: 'string', default: 'ours,baseline' },
  // Our server's HTTP threads (its THREADS setting). Its own default is one per core; the baseline is one thread.
  'our-threads': { type: 'string', default: String(availableParallelism()) },
} as const;

type CompareValues = { [K in keyof typeof COMPARE_OPTIONS]?: string };

export function comparisonConfigFrom(values: CompareValues): ComparisonConfig {
  const get = (name: keyof typeof COMPARE_OPTIONS): string => values[name] ?? COMPARE_OPTIONS[name].default;
  return {
    servers: parseChoiceList<ServerKind>(get('servers'), ['ours', 'baseline'], 'servers'),
    sizes: parseCountList(get('sizes'), 'sizes'),
    rounds: parseCount(get('rounds'), 'rounds'),
    durationSeconds: parseCount(get('duration'), 'duration'),
    routes: parseChoiceList<Route>(get('routes'), ['get', 'put', 'mix'], 'routes'),
    threads: parseCount(get('threads'), 'threads'),
    connections: parseCount(get('connections'), 'connections'),
    valueBytes: parseCount(get('value-bytes'), 'value-bytes'),
    putPercentInMix: parseCount(get('put-percent'), 'put-percent'),
    maxKeys: parseCount(get('max-keys'), 'max-keys'),
    maxBytes: optionalCount(get('max-bytes'), 'max-bytes') ?? 1.5 * 1024 ** 3,
    ourThreads: parseCount(get('our-threads'), 'our-threads'),
  };
}
