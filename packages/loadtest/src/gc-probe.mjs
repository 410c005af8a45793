/**
 * GC probe: preloaded into a server process with `node --import <this file>` so
 * that the drivers can report garbage-collection time for any Node server, ours
 * or the baseline, without changing the server's code.
 *
 * It observes V8's GC entries (perf_hooks) and writes, to the file named by
 * LOADTEST_GC_FILE, a JSON snapshot once a second and at exit:
 *   - cumulative totals (count, total ms) overall and per kind, which a driver
 *     diffs between two reads to get the GC cost of one phase;
 *   - the last pauses of 5 ms or more with their wall-clock time, from which a
 *     driver takes the worst pause inside a phase's time window;
 *   - process.memoryUsage() (heap vs external/ArrayBuffer bytes), to show where
 *     the memory lives.
 * Node loads --import modules into worker threads too, so a server that serves
 * from worker threads gets one probe per thread: the main thread writes
 * LOADTEST_GC_FILE, thread N writes LOADTEST_GC_FILE.thread-N, and the driver
 * adds them up (each thread has its own V8 heap and its own collector).
 * Without LOADTEST_GC_FILE it does nothing. Plain JavaScript so it loads into any
 * Node process without a TypeScript loader.
 */

import { writeFileSync } from 'node:fs';
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';

const baseFile = process.env.LOADTEST_GC_FILE;
const outFile = baseFile && (threadId === 0 ? baseFile : `${baseFile}.thread-${threadId}`);

if (outFile) {
  const KIND_NAMES = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const LONG_PAUSE_MS = 5;
  const MAX_LONG_PAUSES = 2000;

  const totals = { count: 0, totalMs: 0, maxMs: 0, byKind: {} };
  const longPauses = [];

  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KIND_NAMES[entry.detail?.kind] ?? 'other';
      totals.count += 1;
      totals.totalMs += entry.duration;
      totals.maxMs = Math.max(totals.maxMs, entry.duration);
      const perKind = (totals.byKind[kind] ??= { count: 0, totalMs: 0 });
      perKind.count += 1;
      perKind.totalMs += entry.duration;
      if (entry.duration >= LONG_PAUSE_MS) {
        longPauses.push({ atMs: performance.timeOrigin + entry.startTime, ms: entry.duration, kind });
        if (longPauses.length > MAX_LONG_PAUSES) longPauses.shift();
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  const snapshot = () => {
    try {
      writeFileSync(
        outFile,
        JSON.stringify({ writtenAtMs: Date.now(), pid: process.pid, threadId, totals, longPauses, memory: process.memoryUsage() }),
      );
    } catch {
      // A missing directory must not take the server down: the driver reports "no GC data".
    }
  };
  setInterval(snapshot, 1000).unref();
  // Node 24 hands GC entries to the observer only on a later turn of the event
  // loop, which a process whose loop has just emptied never takes (Node 20
  // delivers them before exiting): its last collections would go unreported.
  // One more turn delivers them. A process ended by process.exit() or a signal
  // skips 'beforeExit'; it loses at most the collections since its last turn.
  let deliveredBeforeExit = false;
  process.on('beforeExit', () => {
    if (deliveredBeforeExit) return;
    deliveredBeforeExit = true;
    setImmediate(() => {});
  });
  process.on('exit', snapshot);
}
