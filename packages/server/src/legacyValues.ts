/**
 * Snapshots written by earlier servers, whose values carry a content-type
 * prefix inside the value, are rewritten at load so that the cache holds the
 * values themselves with the Content-Type in the entry's metadata
 * (contentType.ts).
 *
 * The earlier layout of a stored value (the server before entry metadata):
 *
 *   byte 0       n = length of the content type, 0..LEGACY_CONTENT_TYPE_MAX_BYTES
 *   bytes 1..n   the content type, printable ASCII (absent when n = 0; /put values had n = 0)
 *   bytes n+1..  the value itself
 *
 * Which entries are legacy: those with version 0. Every server since then
 * creates its cache with `versions: true`, so each entry it saves has a version
 * ≥ 1; the earlier servers had no versions, so every entry of their snapshots
 * (format 1, and format 2 files saved before versions) loads with version 0.
 * A snapshot saved by a program's own cache without versions looks the same,
 * and is treated the same: only a value whose first bytes form a valid prefix
 * is changed, every other one is kept as it is (and counted).
 *
 * Each legacy entry is set again (so it gets a version), keeping its remaining
 * TTL and its place in the LRU order: entries are rewritten from the least
 * recent, each becoming the most recent, so their order comes out unchanged.
 * Memory stays bounded: keys are taken from the LRU tail a batch at a time.
 */

import type { SlabLruCache } from '@slabcache/engine';

/** The longest content type the earlier layout could hold. */
export const LEGACY_CONTENT_TYPE_MAX_BYTES = 127;
/** Most bytes the earlier layout added to a value: the engine keeps this much room so such files still load. */
export const LEGACY_PREFIX_MAX_BYTES = 1 + LEGACY_CONTENT_TYPE_MAX_BYTES;

/** Keys rewritten per pass over the LRU tail. */
const BATCH = 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export interface LegacyValue {
  /** Undefined when the prefix held none (n = 0). */
  readonly contentType: string | undefined;
  readonly value: Buffer;
}

/** Splits a value in the earlier layout; undefined when its first bytes are not a valid prefix. */
export function decodeLegacyValue(stored: Buffer): LegacyValue | undefined {
  const typeLength = stored[0];
  if (typeLength === undefined || typeLength > LEGACY_CONTENT_TYPE_MAX_BYTES || stored.length < 1 + typeLength) return undefined;
  for (let i = 1; i <= typeLength; i++) {
    const byte = stored[i] as number;
    if (byte < 0x20 || byte > 0x7e) return undefined;
  }
  return {
    contentType: typeLength === 0 ? undefined : stored.toString('latin1', 1, 1 + typeLength),
    value: stored.subarray(1 + typeLength),
  };
}

export interface MigrationStats {
  /** Legacy entries whose prefix was moved into metadata. */
  readonly migrated: number;
  /** Legacy entries without a valid prefix: kept as they were (given a version). */
  readonly kept: number;
  /** Legacy entries gone before their turn: their TTL ran out, or a rewrite needed their room (a cache smaller than the snapshot's). */
  readonly dropped: number;
}

/**
 * Rewrites every legacy entry of `cache` (see the file comment). A cache
 * without any does not change, nor does one created without `versions` (all
 * its entries have version 0: there is no telling old from new).
 */
export function migrateLegacyValues(cache: SlabLruCache): MigrationStats {
  if (!cache.options.versions) return { migrated: 0, kept: 0, dropped: 0 };
  let migrated = 0;
  let kept = 0;
  let dropped = 0;
  for (;;) {
    // Keys only, from the least recent: reading an entry may reclaim an expired one,
    // which an open iterator must not see, so the batch is read after the iterator is closed.
    const batch: (string | Buffer)[] = [];
    for (const key of cache.rkeys()) {
      batch.push(key);
      if (batch.length === BATCH) break;
    }
    let reachedRewritten = batch.length === 0;
    for (const key of batch) {
      const entry = cache.getEntryBytes(key, { peek: true });
      if (entry === undefined) {
        dropped++;
        continue;
      }
      // Rewritten entries (version ≥ 1) are the most recent ones: past the first, all are.
      if (entry.version !== 0) {
        reachedRewritten = true;
        break;
      }
      const ttl = entry.remainingTTL === Infinity ? 0 : Math.floor(entry.remainingTTL);
      if (entry.remainingTTL !== Infinity && ttl < 1) {
        cache.delete(key);
        dropped++;
        continue;
      }
      const legacy = decodeLegacyValue(entry.value);
      if (legacy === undefined) {
        cache.set(key, entry.value, { ttl });
        kept++;
      } else if (legacy.contentType !== undefined) {
        cache.set(key, legacy.value, { ttl, meta: legacy.contentType });
        migrated++;
      } else {
        // n = 0: a /put string (or /kv bytes sent without a Content-Type): text if it decodes as UTF-8.
        cache.set(key, textOrBytes(legacy.value), { ttl });
        migrated++;
      }
    }
    if (reachedRewritten) return { migrated, kept, dropped };
  }
}

function textOrBytes(bytes: Buffer): string | Buffer {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes;
  }
}
