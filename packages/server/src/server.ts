/**
 * `createServer(options)`: the cache, its metrics and the HTTP app, with
 * start/stop. Used by the CLI and by anyone embedding the server (tests do).
 * With `threads` > 1 the HTTP apps run in worker threads over this thread's
 * cache (threads/pool.ts); `buildHttpServer` is the one app either way, and
 * each worker builds its own with it.
 *
 * stop() is the graceful-shutdown recipe of ../shared/notes/uws.md:
 *   1. `app.shutdown()` resolves when in-flight requests have been answered
 *      (bounded by SHUTDOWN_TIMEOUT_MS, so a stuck upload cannot hold it
 *      open); `app.close()` right after it closes the listen socket at once,
 *      so new connections are refused rather than accepted and dropped;
 *   2. `uws_instance.close()` then closes every remaining socket, including
 *      idle keep-alive ones, which `shutdown()` leaves open (uWS would keep
 *      the process alive ~10 s for them otherwise).
 */

import { SlabLruCache } from '@slabcache/engine';
import type { Server } from 'hyper-express';

import { buildApp, routeLabels } from './app.js';
import { resolveAccess, type AccessSettings } from './auth/access.js';
import { isLoopbackHost } from './auth/loopback.js';
import { ConfigError, configFrom, type ServerConfig } from './config.js';
import { assertNoForeignListeners, assertPortFree } from './exclusivePort.js';
import { createLogger, type Logger } from './logger.js';
import { ServerMetrics, type MetricsThread } from './metrics.js';
import { putBodyLimit, routeTable, type RouteContext } from './routes.js';
import { LEGACY_PREFIX_MAX_BYTES } from './legacyValues.js';
import { registerSnapshotMetrics } from './snapshotMetrics.js';
import { snapshotKeeperFor, withSnapshots, type SnapshotKeeper, type SnapshotStatus } from './snapshots.js';
import { startThreadPool } from './threads/pool.js';
import { checkTls, tlsAppOptions, type TlsSummary } from './tls.js';
import { describeUwsBuild, loadedUwsBuild, type UwsBuild } from './uws.js';

export interface CreateServerOptions extends Partial<ServerConfig> {
  /** A pino logger to use instead of a new one at `logLevel`. */
  readonly logger?: Logger;
  /**
   * Called if a server thread stops on its own (THREADS > 1): the other
   * threads keep serving; the CLI stops them and exits 1. Default: log it.
   */
  readonly onThreadFailure?: (error: Error) => void;
}

export interface SlabcacheServer {
  readonly config: ServerConfig;
  readonly cache: SlabLruCache;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** Listens on config.host:config.port; resolves with the bound port (useful with port 0). */
  start(): Promise<number>;
  /** Graceful stop (see the file comment). Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Closes every socket at once, cutting in-flight requests: the CLI's answer
   * to a second signal. With THREADS > 1 it resolves when every thread has
   * closed its sockets and exited (exiting the process before that aborts it).
   */
  stopNow(): Promise<void>;
  /** The bound port; throws before start(). */
  readonly port: number;
  /** Snapshot saving and loading, when SNAPSHOT_PATH is set (docs/snapshots.md). */
  readonly snapshots?: SnapshotKeeper;
}

/**
 * Checks that a native uWS build is loaded (throws otherwise), validates
 * `options` (ConfigError on a bad value, like the CLI), reserves the cache
 * memory and builds the app. Nothing listens until start().
 *
 * `threads` defaults to 1 here (one app in the calling thread): an embedding
 * program asks for worker threads explicitly. The CLI's default is the core count.
 */
export function createServer(options: CreateServerOptions = {}): SlabcacheServer {
  const uws = loadedUwsBuild();
  const { logger: givenLogger, onThreadFailure, ...settings } = options;
  const config = configFrom({ threads: 1, ...settings });
  const logger = givenLogger ?? createLogger(config.logLevel);
  // Token files are read and the certificate checked once, here (ConfigError if they cannot work).
  const access = resolveAccess(config);
  const tls = checkTls(config);
  const cache = createCache(config);
  // Checks SNAPSHOT_PATH now (a ConfigError if it cannot work); the keeper lives in this thread.
  let postStatus: (status: SnapshotStatus) => void = () => undefined;
  const keeper = snapshotKeeperFor(config, cache, logger, (status) => postStatus(status));
  const snapshotStatus = keeper ? () => keeper.status() : undefined;
  const announce = (port: number): void => announceListening(logger, config, port, uws, access, tls);
  if (config.threads > 1) {
    const pool = startThreadPool({
      config,
      logger,
      cache,
      access,
      onThreadFailure: onThreadFailure ?? ((error) => logger.error({ err: error }, 'a server thread stopped on its own')),
      snapshotStatus,
      uws,
    });
    if (!keeper) return announcedOnStart(pool, announce);
    // Threads start with the keeper's state (the load comes first); later changes are posted.
    postStatus = (status) => pool.postToThreads({ type: 'snapshot-status', status });
    return announcedOnStart(withSnapshots(pool, keeper), announce);
  }
  const http = buildHttpServer({ config, logger, cache, uws, access, ...(snapshotStatus ? { snapshotStatus } : {}) });
  const server: SlabcacheServer = {
    config,
    cache,
    logger,
    metrics: http.metrics,
    get port(): number {
      return http.port;
    },
    async start(): Promise<number> {
      // One server per port (exclusivePort.ts): refuse a taken port, and a port someone joined as we bound it.
      await assertPortFree(config.host, config.port);
      const port = await http.start();
      try {
        assertNoForeignListeners(config.host, port);
      } catch (error) {
        await http.stop();
        throw error;
      }
      return port;
    },
    stop: () => http.stop(),
    stopNow: async () => http.closeNow(),
  };
  return announcedOnStart(keeper ? withSnapshots(server, keeper) : server, announce);
}

/**
 * The server as createServer hands it out: start() runs once, and `listening`
 * (with the warnings before it) is logged when it has finished, after the
 * snapshot load and every thread's listen. A stop asked for before then (a
 * signal during boot) waits for the start, since stopping a server that does
 * not listen yet would let it listen afterwards, and is never followed by
 * `listening`: whoever waits for that line must not be told the server is up
 * while it is going down.
 */
function announcedOnStart<S extends SlabcacheServer>(server: S, announce: (port: number) => void): S {
  let starting: Promise<number> | undefined;
  let stopping: Promise<void> | undefined;
  const startOnce = async (): Promise<number> => {
    const port = await server.start();
    if (stopping === undefined) announce(port);
    return port;
  };
  // A new object whose prototype is the server: getters such as `port` keep working.
  return Object.assign(Object.create(server) as S, {
    start(): Promise<number> {
      starting ??= startOnce();
      return starting;
    },
    stop(): Promise<void> {
      stopping ??= (starting ?? Promise.resolve()).catch(() => undefined).then(() => server.stop());
      return stopping;
    },
  });
}

/** One hyper-express app over `cache`: what a single-thread server is, and what each server thread runs. */
export interface HttpServer {
  readonly metrics: ServerMetrics;
  /** Listens on config.host:`port` (default config.port); resolves with the bound port. Logs nothing. */
  start(port?: number): Promise<number>;
  /** Graceful stop (see the file comment). Safe to call twice. */
  stop(): Promise<void>;
  /** Closes the listen socket and every connection now, cutting in-flight requests (a second signal). */
  closeNow(): void;
  /** The bound port; throws before start(). */
  readonly port: number;
}

export interface HttpServerParts {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly cache: SlabLruCache;
  /** The row of the shared request counters this app writes (THREADS > 1); default: counters of its own. */
  readonly thread?: MetricsThread;
  /** The snapshot keeper's latest state for /stats. */
  readonly snapshotStatus?: () => SnapshotStatus | null;
  /** The uWS build this thread runs on, for /stats. */
  readonly uws: UwsBuild;
  /** Tokens and protected mode, resolved once by createServer (auth/access.ts). */
  readonly access: AccessSettings;
}

export function buildHttpServer({ config, logger, cache, thread, snapshotStatus, uws, access }: HttpServerParts): HttpServer {
  const context: RouteContext = { cache, config, uws, startedAt: Date.now(), ...(snapshotStatus ? { snapshotStatus } : {}) };
  const routes = routeTable(context);
  const metrics = new ServerMetrics(cache, routeLabels(routes), thread);
  if (snapshotStatus && config.snapshotPath !== '') registerSnapshotMetrics(metrics.registry, snapshotStatus);
  context.metrics = metrics;
  const app = buildApp({ config, logger, metrics, routes, access, tls: tlsAppOptions(config) });
  const closeSockets = socketCloser(app, logger);

  let port: number | undefined;
  let stopping: Promise<void> | undefined;

  return {
    metrics,
    get port(): number {
      if (port === undefined) throw new Error('server is not listening');
      return port;
    },
    async start(listenPort = config.port): Promise<number> {
      try {
        await app.listen(listenPort, config.host);
      } catch (error) {
        // hyper-express rejects with a string when uWS hands back no socket.
        throw new Error(`cannot listen on ${config.host}:${listenPort} (in use, or not an address of this machine): ${String(error)}`);
      }
      port = app.port;
      return port;
    },
    stop(): Promise<void> {
      stopping ??= shutDown(app, closeSockets, config.shutdownTimeoutMs, logger);
      return stopping;
    },
    closeNow(): void {
      app.close();
      closeSockets();
    },
  };
}

/**
 * The `listening` log line, after the warnings an operator must see: on uWS
 * 20.30 what that build leaves unanswered; in protected mode that other
 * machines are refused and how to serve them; without any protection on a
 * non-loopback address, that everyone is served; short tokens; an expired
 * certificate. No line names a token or the passphrase.
 */
function announceListening(logger: Logger, config: ServerConfig, port: number, uws: UwsBuild, access: AccessSettings, tls: TlsSummary | undefined): void {
  // The warnings first: whoever waits for `listening` has then seen them too.
  if (uws.build === '20.30') {
    logger.warn(
      { uws: describeUwsBuild(uws) },
      'uWS 20.30 closes connections with unknown or lowercase methods and leaves HTTP/1.0 requests unanswered until its ~10 s idle cut; ' +
        'Node 22 or 24 on glibc >= 2.38 loads uWS 20.57, which answers them (docs/runtimes.md)',
    );
  }
  for (const warning of accessWarnings(config, access)) logger.warn(warning);
  if (tls?.expired) logger.warn({ cert: tls.cert, validTo: tls.validTo }, 'the TLS certificate has expired: clients that check it will refuse to connect');
  logger.info(listeningFields(config, port, uws, access, tls), 'listening');
}

/** Shortest token that does not draw a warning: 128 bits of hex. */
const SHORT_TOKEN = 32;

function accessWarnings(config: ServerConfig, access: AccessSettings): string[] {
  const warnings: string[] = [];
  if (access.protectedMode) {
    warnings.push(
      `protected mode: no AUTH_TOKEN is set and HOST=${config.host} is not loopback, so only clients on this machine are answered ` +
        '(others get 403 protected_mode; /health and /dashboard stay open). To serve other machines, set AUTH_TOKEN to a secret ' +
        '(e.g. `openssl rand -hex 32`; with Docker: docker run -e AUTH_TOKEN=...) and send "Authorization: Bearer <token>"; ' +
        'or set PROTECTED_MODE=no on a network you trust (docs/security.md)',
    );
  } else if (access.tokens.length === 0 && !isLoopbackHost(config.host)) {
    warnings.push(`PROTECTED_MODE=no and no AUTH_TOKEN: every client that reaches ${config.host}:${config.port} can read, write and delete every key`);
  }
  const short = access.tokens.filter(({ token }) => token.length < SHORT_TOKEN).length;
  if (short > 0) {
    warnings.push(`tokens shorter than ${SHORT_TOKEN} characters: ${short} of ${access.tokens.length}; use long random tokens (\`openssl rand -hex 32\`)`);
  }
  return warnings;
}

/** How the `listening` line describes access: never a token. */
function describeAccess(access: AccessSettings): string {
  if (access.tokens.length > 0) {
    const readOnly = access.tokens.filter((t) => t.access === 'read-only').length;
    const metrics = access.metricsNeedToken ? '' : '; /metrics open';
    return `bearer tokens (${access.tokens.length - readOnly} read-write, ${readOnly} read-only${metrics})`;
  }
  return access.protectedMode ? 'protected mode (loopback clients only)' : 'open (no token)';
}

/** What the `listening` log line says. */
function listeningFields(config: ServerConfig, port: number, uws: UwsBuild, access: AccessSettings, tls: TlsSummary | undefined): Record<string, unknown> {
  return {
    host: config.host,
    port,
    threads: config.threads,
    maxKeys: config.maxKeys,
    maxBytes: config.maxBytes,
    maxSize: config.maxSize,
    maxKeyBytes: config.maxKeyBytes,
    maxValueBytes: config.maxValueBytes,
    maxPutBodyBytes: putBodyLimit(config),
    node: process.version,
    uws: describeUwsBuild(uws),
    uwsBinary: uws.file,
    defaultTtl: config.defaultTtl,
    maxBatchKeys: config.maxBatchKeys,
    maxBatchBytes: config.maxBatchBytes,
    access: describeAccess(access),
    tls: tls === undefined ? false : { cert: tls.cert, subject: tls.subject, subjectAltName: tls.subjectAltName, validTo: tls.validTo, fingerprint256: tls.fingerprint256 },
  };
}

/** The engine cache for `config`; a bad combination of limits is a ConfigError. */
export function createCache(config: ServerConfig): SlabLruCache {
  try {
    return new SlabLruCache({
      maxKeys: config.maxKeys,
      maxBytes: config.maxBytes,
      maxSize: config.maxSize,
      maxKeyBytes: config.maxKeyBytes,
      policy: config.policy,
      // HTTP enforces MAX_VALUE_BYTES itself. The engine keeps room for the content-type
      // prefix of values in snapshots of earlier servers, so that such a file still loads
      // (it is then rewritten without the prefix: legacyValues.ts).
      maxValueBytes: config.maxValueBytes + LEGACY_PREFIX_MAX_BYTES,
      // ETags and compare-and-set (conditional.ts): 8 bytes per entry.
      versions: true,
      ttl: config.defaultTtl,
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`the cache cannot be built from MAX_KEYS/MAX_BYTES/MAX_SIZE/MAX_KEY_BYTES/MAX_VALUE_BYTES/POLICY: ${why}`);
  }
}

async function shutDown(app: Server, closeSockets: () => void, timeoutMs: number, logger: Logger): Promise<void> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  // shutdown() first, so that requests arriving on open keep-alive connections are turned
  // away; then close the listen socket now (shutdown() alone keeps it open until the
  // in-flight requests are done, and new connections would be accepted and dropped).
  const inFlightDone = app.shutdown();
  app.close();
  const drained = await Promise.race([
    inFlightDone.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  // The last reply may have completed inside a uWS cork callback, and this continuation can
  // run before uWS uncorks and writes it; closing now would drop it. Let that callback end.
  await new Promise((resolve) => setImmediate(resolve));
  if (!drained) {
    logger.warn({ timeoutMs }, 'in-flight requests still running at the shutdown timeout; closing their sockets');
  }
  closeSockets();
  logger.info({ ms: Date.now() - started }, 'stopped');
}

/** Closes the uWS app and every socket it holds, once (a second close of the native app is not safe). */
function socketCloser(app: Server, logger: Logger): () => void {
  let closed = false;
  return () => {
    if (closed) return;
    closed = true;
    try {
      // Not in uWS's type declarations, but present in the native addon (uws.md).
      (app.uws_instance as unknown as { close(): void }).close();
    } catch (error) {
      // An abort callback failing while sockets close must not turn a stop into a crash.
      logger.warn({ err: error }, 'error while closing sockets');
    }
  };
}
