/**
 * One memory sample of a running server: RSS and its high-water mark from
 * /proc, plus the V8 heap / ArrayBuffer split from the GC probe when the server
 * carries it. And the GC cost of a phase, from two probe snapshots.
 */

import { setTimeout as sleep } from 'node:timers/promises';

import { readProcessMemory } from './proc-status.js';
import type { GcDelta, MemorySample } from './results.js';
import type { GcSnapshot, RunningServer } from './server-process.js';

export function sampleMemory(server: RunningServer): MemorySample {
  const proc = readProcessMemory(server.pid);
  const gc = server.readGc();
  return gc
    ? {
        ...proc,
        heapUsedBytes: gc.memory.heapUsed,
        externalBytes: gc.memory.external,
        arrayBuffersBytes: gc.memory.arrayBuffers,
      }
    : proc;
}

/** Waits (up to 3 s) for a GC snapshot the probe wrote after `afterMs`. */
export async function freshGcSnapshot(server: RunningServer, afterMs: number): Promise<GcSnapshot | undefined> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const snapshot = server.readGc();
    if (snapshot && snapshot.writtenAtMs > afterMs) return snapshot;
    if (Date.now() > deadline) return undefined;
    await sleep(100);
  }
}

export function gcDelta(before: GcSnapshot | undefined, after: GcSnapshot | undefined, fromMs: number, toMs: number): GcDelta | undefined {
  if (!before || !after) return undefined;
  const pauses = after.longPauses.filter((p) => p.atMs >= fromMs && p.atMs <= toMs).map((p) => p.ms);
  return {
    count: after.totals.count - before.totals.count,
    totalMs: after.totals.totalMs - before.totals.totalMs,
    maxPauseMs: pauses.length > 0 ? Math.max(...pauses) : 0,
  };
}
