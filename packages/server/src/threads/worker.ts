/**
 * A server thread: one hyper-express app on the shared port, over the cache
 * the main thread created (attached through its handle), writing its own row
 * of the shared request counters. Started by pool.ts; see messages.ts.
 *
 * Stopping follows the worker_threads recipe of ../shared/notes/uws.md: the
 * main thread never terminates a listening worker (that aborts the whole
 * process); it posts 'shutdown', and this thread runs the graceful stop
 * (close the listen socket, let in-flight requests finish, close every socket,
 * close the uWS app) and only then exits 0.
 *
 * The same trap makes an uncaught exception in this thread abort the whole
 * process (Node ends the thread with uWS's handles open). So this thread
 * catches its own: it logs, closes every socket, and exits 1; the main
 * thread then stops the other threads and the CLI exits 1.
 */

import { parentPort, workerData } from 'node:worker_threads';

import { SlabLruCache } from '@slabcache/engine';

import { createLogger } from '../logger.js';
import { buildHttpServer, type HttpServer } from '../server.js';
import { ThreadCounters } from '../threadCounters.js';
import { loadedUwsBuild } from '../uws.js';
import type { SnapshotStatus } from '../snapshots.js';
import type { MainMessage, ServerThreadData, WorkerMessage } from './messages.js';

const data = workerData as ServerThreadData;
if (!parentPort) throw new Error('threads/worker.ts runs only as a worker thread');
const toMain = parentPort;
const logger = createLogger(data.config.logLevel, { sync: true }).child({ thread: data.thread });

const post = (message: WorkerMessage): void => toMain.postMessage(message);

/** Ends this thread. Its logger writes synchronously, so no log line is lost. */
function exitThread(code: number): void {
  process.exit(code);
}

/** The main thread's snapshot keeper state, as last posted (shown in /stats). */
let snapshotStatus: SnapshotStatus | null = data.snapshotStatus;

async function run(): Promise<void> {
  let http: HttpServer | undefined;
  try {
    const uws = loadedUwsBuild();
    http = buildHttpServer({
      uws,
      config: data.config,
      logger,
      cache: SlabLruCache.attach(data.cache),
      thread: { counters: ThreadCounters.attach(data.counters), thread: data.thread },
      snapshotStatus: () => snapshotStatus,
    });
    const server = http;
    const die = (error: unknown): void => {
      logger.fatal({ err: error }, 'uncaught error in server thread: closing its sockets and exiting');
      server.closeNow();
      exitThread(1);
    };
    process.on('uncaughtException', die);
    process.on('unhandledRejection', die);
    toMain.on('message', (message: MainMessage) => {
      if (message.type === 'snapshot-status') {
        snapshotStatus = message.status;
        return;
      }
      if (message.type === 'stop-now') {
        // Sockets closed first: exiting this thread with any still open would abort the process.
        server.closeNow();
        exitThread(1);
        return;
      }
      server.stop().then(
        () => exitThread(0),
        (error: unknown) => {
          logger.error({ err: error }, 'thread shutdown failed');
          exitThread(1);
        },
      );
    });
    const port = await http.start(data.port);
    logger.debug({ port }, 'thread listening');
    post({ type: 'listening', port });
  } catch (error) {
    post({ type: 'start-failed', message: error instanceof Error ? error.message : String(error) });
    // Nothing listens, but the uWS app must still be closed before this thread may exit.
    await http?.stop().catch(() => undefined);
    exitThread(1);
  }
}

void run();
