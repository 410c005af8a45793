/**
 * Readers for the four real cache traces in ../shared/traces (see its
 * README.md for their sources, formats and licences). The traces are read at
 * run time from that directory, or from $SLABCACHE_TRACES; they are never
 * copied into this repository.
 *
 *   cloudphysics  libCacheSim oracleGeneral: packed 24-byte little-endian records
 *                 u32 timestamp | u64 obj_id | u32 obj_size | i64 next_access_vtime
 *   oltp          gzip; big-endian signed 32-bit keys, one per request
 *   glimpse       gzip; text, one decimal block number per line ('*' lines skipped)
 *   scarab-recs   xz; big-endian signed 64-bit keys, one per request (needs the xz binary)
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

export type TraceName = 'cloudphysics' | 'oltp' | 'glimpse' | 'scarab-recs';
export const TRACE_NAMES: readonly TraceName[] = ['cloudphysics', 'oltp', 'glimpse', 'scarab-recs'];

/** A trace as parallel arrays: request i asks for keys[i] (an object of sizes[i] bytes, when known). */
export interface Trace {
  readonly name: TraceName;
  readonly keys: readonly string[];
  /** Object sizes in bytes (cloudphysics only). */
  readonly sizes: Uint32Array | undefined;
  readonly uniqueKeys: number;
}

const FILES: Record<TraceName, string> = {
  cloudphysics: 'cloudPhysicsIO.oracleGeneral.bin',
  oltp: 'trace-oltp.trc.bin.gz',
  glimpse: 'gli.trace.gz',
  'scarab-recs': 'scarab-recs.trace.xz',
};

/**
 * The traces directory: $SLABCACHE_TRACES, else `shared/traces` beside the
 * repository (found from `packageDir`, this package's directory); undefined
 * if absent.
 */
export function tracesDirectory(packageDir: string): string | undefined {
  const candidates = [process.env['SLABCACHE_TRACES'], path.resolve(packageDir, '../../../shared/traces')];
  return candidates.find((dir): dir is string => dir !== undefined && existsSync(path.join(dir, FILES.glimpse)));
}

/** Reads a whole trace (or its first `limit` requests). */
export function readTrace(dir: string, name: TraceName, limit = Infinity): Trace {
  const file = path.join(dir, FILES[name]);
  const keys: string[] = [];
  let sizes: Uint32Array | undefined;
  if (name === 'cloudphysics') {
    const bytes = readFileSync(file);
    const count = Math.min(limit, Math.floor(bytes.length / 24));
    sizes = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      keys.push(bytes.readBigUInt64LE(i * 24 + 4).toString());
      sizes[i] = bytes.readUInt32LE(i * 24 + 12);
    }
  } else if (name === 'oltp') {
    const bytes = gunzipSync(readFileSync(file));
    const count = Math.min(limit, Math.floor(bytes.length / 4));
    for (let i = 0; i < count; i++) keys.push(String(bytes.readInt32BE(i * 4)));
  } else if (name === 'glimpse') {
    for (const line of gunzipSync(readFileSync(file)).toString('latin1').split('\n')) {
      const text = line.trim();
      if (text === '' || text.startsWith('*')) continue;
      if (keys.length >= limit) break;
      keys.push(text);
    }
  } else {
    const bytes = execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 });
    const count = Math.min(limit, Math.floor(bytes.length / 8));
    for (let i = 0; i < count; i++) keys.push(bytes.readBigInt64BE(i * 8).toString());
  }
  return { name, keys, sizes, uniqueKeys: new Set(keys).size };
}
