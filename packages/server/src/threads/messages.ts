/**
 * What the main thread and the server threads say to each other
 * (pool.ts <-> worker.ts). Everything here is structured-clonable.
 *
 *   main -> worker   workerData: ServerThreadData
 *   worker -> main   { type: 'listening', port }      the app accepts connections
 *                    { type: 'start-failed', message } it could not; the worker exits 1
 *   main -> worker   { type: 'shutdown' }              graceful stop, then exit 0
 *   main -> worker   { type: 'stop-now' }              close every socket at once, then exit 1
 *   main -> worker   { type: 'snapshot-status', status } the snapshot keeper (main thread) changed
 *                                                     state: the thread shows it in /stats
 */

import type { CacheHandle } from '@slabcache/engine';

import type { AccessSettings } from '../auth/access.js';
import type { ServerConfig } from '../config.js';
import type { SnapshotStatus } from '../snapshots.js';
import type { ThreadCountersHandle } from '../threadCounters.js';

export interface ServerThreadData {
  readonly config: ServerConfig;
  /** Which server thread this is, 0..threads-1: its row in the shared counters. */
  readonly thread: number;
  /** The port to bind: config.port for the first thread; the port it got (port 0) for the others. */
  readonly port: number;
  readonly cache: CacheHandle;
  readonly counters: ThreadCountersHandle;
  /** The snapshot keeper's state when the thread was started (later changes are posted). */
  readonly snapshotStatus: SnapshotStatus | null;
  /** The tokens and protected mode the main thread resolved: every thread accepts the same. */
  readonly access: AccessSettings;
}

export type WorkerMessage = { readonly type: 'listening'; readonly port: number } | { readonly type: 'start-failed'; readonly message: string };

export type MainMessage =
  | { readonly type: 'shutdown' }
  | { readonly type: 'stop-now' }
  | { readonly type: 'snapshot-status'; readonly status: SnapshotStatus };
