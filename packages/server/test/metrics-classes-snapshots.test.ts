/**
 * The /metrics series the Grafana board adds to the engine totals: slab memory
 * by size class (they must add up to the totals) and the snapshot status
 * (only with SNAPSHOT_PATH; a save's gauges only once a save has happened).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startTestServer } from './support/server';

/** Every sample of `name` in a Prometheus text exposition, by its label text. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name) out.set(match[2] ?? '', Number(match[3]));
  }
  return out;
}
const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

it('slab memory by size class adds up to the engine totals', async () => {
  const t = await startTestServer({ maxKeys: 50 });
  try {
    // Values of 1 B to 3 KiB: several size classes; 80 keys over MAX_KEYS=50 evict 30.
    for (let i = 0; i < 80; i++) await t.call('PUT', `/kv/c${i}`, { body: 'x'.repeat((i * 37) % 3000) });
    const text = (await t.call('GET', '/metrics')).text;
    const stats = t.server.cache.stats();
    const slab = samples(text, 'slabcache_class_slab_bytes');
    const items = samples(text, 'slabcache_class_items');
    const used = samples(text, 'slabcache_class_used_bytes');
    expect(slab.size).toBeGreaterThan(3);
    expect(sum(slab)).toBe(stats.slab_bytes);
    expect(sum(items)).toBe(stats.curr_items);
    expect(sum(samples(text, 'slabcache_class_requested_bytes'))).toBe(stats.bytes);
    expect(sum(samples(text, 'slabcache_class_evictions_total'))).toBe(30);
    for (const [labels, count] of items) {
      const chunkSize = Number(/chunk_size="(\d+)"/.exec(labels)?.[1]);
      expect(used.get(labels)).toBe(count * chunkSize);
    }
    expect(text).not.toContain('slabcache_snapshot_');
  } finally {
    await t.stop();
  }
}, 60_000);

it('reports the snapshot load at startup, and no save series before a save', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slabcache-snapshot-metrics-'));
  const snapshotPath = path.join(dir, 'cache.snap');
  try {
    const first = await startTestServer({ snapshotPath });
    let text = (await first.call('GET', '/metrics')).text;
    expect(samples(text, 'slabcache_snapshot_saves_total')).toEqual(new Map([['{result="ok"}', 0], ['{result="failed"}', 0]]));
    expect(samples(text, 'slabcache_snapshot_last_load_entries')).toEqual(new Map([['', 0]])); // no file yet: started empty
    expect(samples(text, 'slabcache_snapshot_last_save_timestamp_seconds').size).toBe(0); // no save yet: no series
    expect(text).toContain('# TYPE slabcache_snapshot_last_save_timestamp_seconds gauge');
    for (let i = 0; i < 25; i++) await first.call('PUT', `/kv/s${i}`, { body: 'v' });
    await first.stop(); // saves

    const second = await startTestServer({ snapshotPath });
    try {
      text = (await second.call('GET', '/metrics')).text;
      expect(samples(text, 'slabcache_snapshot_last_load_entries')).toEqual(new Map([['', 25]]));
      const loadedAt = samples(text, 'slabcache_snapshot_last_load_timestamp_seconds').get('') as number;
      expect(Math.abs(loadedAt - Date.parse(second.server.snapshots!.status().last_load!.at) / 1000)).toBeLessThan(0.001);
      expect(samples(text, 'slabcache_snapshot_saving')).toEqual(new Map([['', 0]]));
      expect(samples(text, 'slabcache_snapshot_consecutive_failures')).toEqual(new Map([['', 0]]));
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
