/**
 * THREADS > 1: N hyper-express servers in worker threads on one port, all
 * over the one cache this (main) thread created. The main thread serves no
 * HTTP; it owns the cache and the shared request counters, starts and stops
 * the threads, and is what `createServer` hands back.
 *
 * Start: the first thread binds the port and reports it; the others then
 * bind that same port. uWS listens with SO_REUSEPORT, so the kernel spreads
 * new connections over the threads (a connection stays with the thread that
 * accepted it). uSockets sets SO_REUSEPORT only for a non-zero port, so with
 * PORT=0 this thread first asks the OS for a free port (and tries again with
 * another if someone takes it in between). `start()` resolves once every
 * thread listens; if one cannot, the others are stopped and start() rejects.
 * The threads share the port with each other and nobody else: start() refuses
 * a port something already listens on, and stops if a stranger joined it while
 * the threads were binding (exclusivePort.ts).
 *
 * Stop (../shared/notes/uws.md, worker_threads): a listening worker is never
 * terminate()d, which would abort the whole process. The main thread posts
 * 'shutdown' to each; each runs the graceful stop and exits 0; stop()
 * resolves when all have exited, and rejects if one exited otherwise or did
 * not exit within SHUTDOWN_TIMEOUT_MS plus a margin.
 */

import { createServer as createNetServer } from 'node:net';
import { Worker } from 'node:worker_threads';

import type { SlabLruCache } from '@slabcache/engine';

import { routeLabels } from '../app.js';
import type { AccessSettings } from '../auth/access.js';
import type { ServerConfig } from '../config.js';
import { assertNoForeignListeners, assertPortFree } from '../exclusivePort.js';
import type { Logger } from '../logger.js';
import { createThreadCounters, ServerMetrics } from '../metrics.js';
import { routeTable } from '../routes.js';
import type { SlabcacheServer } from '../server.js';
import type { SnapshotStatus } from '../snapshots.js';
import type { UwsBuild } from '../uws.js';
import type { MainMessage, ServerThreadData, WorkerMessage } from './messages.js';
import { serverThreadScript, type WorkerScript } from './workerScript.js';

/** How long past SHUTDOWN_TIMEOUT_MS a thread may take to close its sockets and exit. */
const EXIT_MARGIN_MS = 5000;
/** With PORT=0: free ports tried before giving up (a port can be taken between the probe and the bind). */
const FREE_PORT_ATTEMPTS = 3;

/** A port the OS says is free on `host` now. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host, exclusive: true }, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ThreadPoolParts {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly cache: SlabLruCache;
  /** A thread exited without being asked to. */
  readonly onThreadFailure: (error: Error) => void;
  /** The snapshot keeper's state, handed to each thread as it starts. */
  readonly snapshotStatus?: (() => SnapshotStatus | null) | undefined;
  /** The uWS build the main thread loaded (each thread loads its own; only for the route table here). */
  readonly uws: UwsBuild;
  /** Tokens and protected mode, handed to every thread (auth/access.ts). */
  readonly access: AccessSettings;
}

/** One server thread as the main thread sees it. */
interface ServerThread {
  readonly id: number;
  readonly worker: Worker;
  /** Resolves with the bound port; rejects if the thread could not listen. */
  readonly listening: Promise<number>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  /** Set once 'shutdown' was posted: an exit is then expected. */
  stopping: boolean;
}

/** The pool is a server, plus a way to tell every thread something (snapshot status). */
export interface ThreadPool extends SlabcacheServer {
  postToThreads(message: MainMessage): void;
}

export function startThreadPool({ config, logger, cache, onThreadFailure, snapshotStatus, uws, access }: ThreadPoolParts): ThreadPool {
  // The route table is the same in every thread; the main thread needs it only to size the counters.
  const labels = routeLabels(routeTable({ cache, config, uws, startedAt: Date.now() }));
  const counters = createThreadCounters(labels, config.threads);
  // Reading the handle switches this cache to locked operation before any thread attaches.
  const cacheHandle = cache.handle;
  // The main thread's view of the metrics: it serves no requests, it only reads every row.
  const metrics = new ServerMetrics(cache, labels, { counters, thread: 0 });
  const threads: ServerThread[] = [];
  let port: number | undefined;
  let starting: Promise<number> | undefined;
  let stopping: Promise<void> | undefined;

  const launch = (filename: string | URL, evalCode: boolean, id: number, bindPort: number): ServerThread => {
    const data: ServerThreadData = {
      config,
      thread: id,
      port: bindPort,
      cache: cacheHandle,
      counters: counters.handle,
      snapshotStatus: snapshotStatus?.() ?? null,
      access,
    };
    const worker = new Worker(filename, { eval: evalCode, workerData: data });
    let onListening: (port: number) => void = () => undefined;
    let onStartFailed: (error: Error) => void = () => undefined;
    const listening = new Promise<number>((resolve, reject) => {
      onListening = resolve;
      onStartFailed = reject;
    });
    const thread: ServerThread = {
      id,
      worker,
      listening,
      exited: new Promise((resolve) => worker.once('exit', resolve)),
      stopping: false,
    };
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'listening') onListening(message.port);
      else onStartFailed(new Error(`server thread ${id} could not start: ${message.message}`));
    });
    worker.on('error', (error) => {
      logger.error({ err: error, thread: id }, 'server thread failed');
      onStartFailed(error);
    });
    void thread.exited.then((code) => {
      onStartFailed(new Error(`server thread ${id} exited with code ${code} before listening`));
      if (!thread.stopping && port !== undefined) {
        onThreadFailure(new Error(`server thread ${id} exited with code ${code} while serving`));
      }
    });
    threads.push(thread);
    return thread;
  };

  const startAll = async (): Promise<number> => {
    const script = await serverThreadScript();
    // One server per port (exclusivePort.ts): the threads share it with each other, and with nobody else.
    await assertPortFree(config.host, config.port);
    for (let attempt = 1; ; attempt++) {
      try {
        port = await startThreads(script, config.port === 0 ? await freePort(config.host) : config.port);
        break;
      } catch (error) {
        await stopAll();
        threads.length = 0;
        if (config.port !== 0 || attempt === FREE_PORT_ATTEMPTS) throw error;
        logger.warn({ err: error, attempt }, 'server threads could not share the free port found; trying another');
      }
    }
    try {
      assertNoForeignListeners(config.host, port);
    } catch (error) {
      await stopAll();
      throw error;
    }
    return port;
  };

  /** Starts every thread on `bindPort`; rejects if one could not listen (the caller stops the others). */
  const startThreads = async ({ filename, evalCode }: WorkerScript, bindPort: number): Promise<number> => {
    const first = await launch(filename, evalCode, 0, bindPort).listening;
    const others = [];
    for (let id = 1; id < config.threads; id++) others.push(launch(filename, evalCode, id, first));
    // Wait for every thread to listen or fail before reporting a failure: a thread told to stop
    // while its listen is still pending could end up listening after its stop, then abort on exit.
    const outcomes = await Promise.allSettled(others.map((thread) => thread.listening));
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    return first;
  };

  const stopAll = async (): Promise<void> => {
    const started = Date.now();
    const shutdown: MainMessage = { type: 'shutdown' };
    for (const thread of threads) {
      thread.stopping = true;
      thread.worker.postMessage(shutdown);
    }
    let timer: NodeJS.Timeout | undefined;
    const limitMs = config.shutdownTimeoutMs + EXIT_MARGIN_MS;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limitMs)));
    const codes = await Promise.race([Promise.all(threads.map((thread) => thread.exited)), timedOut]);
    clearTimeout(timer);
    if (codes === 'timeout') throw new Error(`server threads did not exit within ${limitMs} ms of shutdown`);
    // Before every thread listened, a thread that could not start has already exited 1: start() reported it.
    const unclean = threads.map((thread, i) => ({ id: thread.id, code: codes[i] })).filter(({ code }) => code !== 0);
    if (port !== undefined && unclean.length > 0) {
      throw new Error(`server threads exited uncleanly: ${unclean.map(({ id, code }) => `thread ${id} with code ${code}`).join(', ')}`);
    }
    logger.info({ ms: Date.now() - started, threads: threads.length }, 'stopped');
  };

  return {
    config,
    cache,
    logger,
    metrics,
    postToThreads(message: MainMessage): void {
      for (const thread of threads) thread.worker.postMessage(message);
    },
    get port(): number {
      if (port === undefined) throw new Error('server is not listening');
      return port;
    },
    start(): Promise<number> {
      starting ??= startAll();
      return starting;
    },
    async stopNow(): Promise<void> {
      const now: MainMessage = { type: 'stop-now' };
      for (const thread of threads) {
        thread.stopping = true;
        thread.worker.postMessage(now);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(threads.map((thread) => thread.exited)),
        new Promise((resolve) => (timer = setTimeout(resolve, EXIT_MARGIN_MS))),
      ]);
      clearTimeout(timer);
    },
    stop(): Promise<void> {
      stopping ??= (starting ?? Promise.resolve()).catch(() => undefined).then(stopAll);
      return stopping;
    },
  };
}
