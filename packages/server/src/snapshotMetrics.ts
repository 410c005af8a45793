/**
 * Snapshot status as Prometheus metrics: the `snapshot` section of /stats
 * (snapshots.ts SnapshotStatus) read at scrape time. Registered only when
 * SNAPSHOT_PATH is set, so a server without snapshots exports none of them.
 *
 *   slabcache_snapshot_saves_total{result="ok"|"failed"}   counter
 *   slabcache_snapshot_saving                              1 while a save runs
 *   slabcache_snapshot_consecutive_failures                failed saves since the last good one
 *   slabcache_snapshot_last_save_timestamp_seconds         when the last save ended (any result)
 *   slabcache_snapshot_last_save_success                   1 if it succeeded, 0 if not
 *   slabcache_snapshot_last_save_duration_seconds
 *   slabcache_snapshot_last_save_bytes                     size of the file written
 *   slabcache_snapshot_last_load_timestamp_seconds         the load at startup
 *   slabcache_snapshot_last_load_duration_seconds
 *   slabcache_snapshot_last_load_entries
 *
 * The last_* gauges are absent until that operation has happened once.
 */

import { Counter, type Metric, type Registry } from 'prom-client';

import type { SnapshotOperation, SnapshotStatus } from './snapshots.js';

export function registerSnapshotMetrics(registry: Registry, status: () => SnapshotStatus | null): void {
  const registers = [registry];
  new Counter({
    name: 'slabcache_snapshot_saves_total',
    help: 'Snapshot saves since start, by result',
    labelNames: ['result'] as const,
    registers,
    collect() {
      const now = status();
      this.reset();
      if (now === null) return;
      this.inc({ result: 'ok' }, now.saves_ok);
      this.inc({ result: 'failed' }, now.saves_failed);
    },
  });
  // Hand-made gauges (the get() shape prom-client's registry reads): a prom-client Gauge
  // without labels always reports a value (0 after reset), and a timestamp of 0 would lie.
  const gauge = (name: string, help: string, read: (s: SnapshotStatus) => number | undefined): void => {
    const get = () => {
      const now = status();
      const value = now === null ? undefined : read(now);
      return { name, help, type: 'gauge', aggregator: 'sum', values: value === undefined ? [] : [{ labels: {}, value }] };
    };
    registry.registerMetric({ name, help, type: 'gauge', aggregator: 'sum', get } as unknown as Metric);
  };
  const ofSave = (read: (op: SnapshotOperation) => number) => (s: SnapshotStatus) => (s.last_save ? read(s.last_save) : undefined);
  const ofLoad = (read: (op: SnapshotOperation) => number) => (s: SnapshotStatus) => (s.last_load ? read(s.last_load) : undefined);
  const seconds = (iso: string): number => Date.parse(iso) / 1000;

  gauge('slabcache_snapshot_saving', '1 while a snapshot save is running', (s) => (s.saving ? 1 : 0));
  gauge('slabcache_snapshot_consecutive_failures', 'Failed snapshot saves since the last one that succeeded', (s) => s.consecutive_failures);
  gauge('slabcache_snapshot_last_save_timestamp_seconds', 'When the last snapshot save ended, whatever its result (Unix time)', ofSave((op) => seconds(op.at)));
  gauge('slabcache_snapshot_last_save_success', '1 if the last snapshot save succeeded, 0 if it failed', ofSave((op) => (op.result === 'ok' ? 1 : 0)));
  gauge('slabcache_snapshot_last_save_duration_seconds', 'Duration of the last snapshot save', ofSave((op) => op.duration_ms / 1000));
  gauge('slabcache_snapshot_last_save_bytes', 'Size of the snapshot file the last save wrote', ofSave((op) => op.bytes));
  gauge('slabcache_snapshot_last_load_timestamp_seconds', 'When the snapshot load at startup ended (Unix time)', ofLoad((op) => seconds(op.at)));
  gauge('slabcache_snapshot_last_load_duration_seconds', 'Duration of the snapshot load at startup', ofLoad((op) => op.duration_ms / 1000));
  gauge('slabcache_snapshot_last_load_entries', 'Entries loaded from the snapshot at startup', ofLoad((op) => op.entries));
}
