/**
 * The HTTP API, as handlers that turn a request into a `Reply`:
 *
 *   PUT|POST /put      {"key","value","ttl"?,"ifVersion"?} JSON       200 {"ok":true} | 412
 *                      optional ?key= must equal the body's key     (400 key_mismatch)
 *   GET      /get?key=                                             200 {"key","value"} | 304 | 404
 *   *        /kv/:key  raw bytes, versions, TTL, conditions         kvRoutes.ts
 *   POST     /mget, /mset, /mdel  batches                          batchRoutes.ts
 *   GET      /health, /stats, /metrics
 *   GET      /dashboard  a static page that polls /stats (dashboard/route.ts)
 *
 * Every check runs before the cache is touched, so a refused request changes
 * nothing. Values are stored as they were sent; a /kv value's Content-Type is
 * the entry's metadata (contentType.ts). Reads carry the entry's version as
 * an ETag and its remaining TTL (ttl.ts); /get honours If-None-Match (304)
 * and If-Match (412) like /kv. /put with `ifVersion` is a compare-and-set:
 * stored only if the entry's version is that (0 = only if absent).
 */

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SnapshotStatus } from './snapshots.js';
import type { UwsBuild } from './uws.js';

import type { SlabLruCache } from '@slabcache/engine';
import type { Request } from 'hyper-express';

import { batchRoutes } from './batchRoutes.js';
import { parseJson, readBody } from './body.js';
import { hasPreconditions, preconditionFailed, preconditionsOf, readOutcome } from './conditional.js';
import { dashboardRoute } from './dashboard/route.js';
import type { ServerConfig } from './config.js';
import { badRequest, HttpError, valueTooLarge } from './errors.js';
import { checkKeySize, keyFromQuery, optionalKeyFromQuery } from './keys.js';
import { entryHeaders, kvRoutes, notFound, notModified, OK, setOptions, storedVersionReply } from './kvRoutes.js';
import type { RouteLabel, ServerMetrics } from './metrics.js';
import { jsonReply, type Reply } from './reply.js';
import { describeValidationError, validatePutBody } from './schemas.js';
import { checkTtl } from './ttl.js';

export type Handler = (req: Request) => Reply | Promise<Reply>;

export type Method = 'get' | 'head' | 'put' | 'post' | 'delete';

export interface RouteSpec {
  readonly method: Method;
  readonly pattern: string;
  readonly handler: Handler;
}

export interface RouteContext {
  readonly cache: SlabLruCache;
  readonly config: ServerConfig;
  /** Filled in once the metrics exist (they need the route list first). */
  metrics?: ServerMetrics;
  /** Last snapshot save/load (docs/snapshots.md), or null when SNAPSHOT_PATH is not set. */
  readonly snapshotStatus?: () => SnapshotStatus | null;
  /** The uWebSockets.js build serving this thread (named in /stats). */
  readonly uws: UwsBuild;
  readonly startedAt: number;
}

/**
 * Largest JSON body /put accepts: key and value at their limits, each allowed
 * to double in size through JSON escaping (quotes, backslashes, newlines), plus
 * room for the field names and whitespace. A value within MAX_VALUE_BYTES that
 * is mostly `\u` escapes can exceed it; the 413 then names this limit.
 */
export function putBodyLimit(config: ServerConfig): number {
  return 2 * (config.maxKeyBytes + config.maxValueBytes) + 4096;
}

export function routeTable(ctx: RouteContext): RouteSpec[] {
  const { cache, config } = ctx;
  const maxKeyBytes = config.maxKeyBytes;
  const maxValueBytes = config.maxValueBytes;
  const putLimit = putBodyLimit(config);
  const putBodyTooLarge = (actual: number): HttpError =>
    new HttpError(
      413,
      'body_too_large',
      `request body is ${actual} bytes, over the limit of ${putLimit} bytes (2 × (MAX_KEY_BYTES + MAX_VALUE_BYTES) + 4096)`,
    );
  const put: Handler = async (req) => {
    // The routable form /put?key=K (docs/cluster.md): a router chose the node by K, so the
    // entry must be stored under K, or reads of K would look for it on another node.
    const routedKey = optionalKeyFromQuery(req.path_query, '/put');
    const body = parseJson(await readBody(req, putLimit, putBodyTooLarge));
    if (!validatePutBody(body)) {
      const { code, message } = describeValidationError(validatePutBody.errors);
      throw badRequest(code, message);
    }
    const { key, value, ttl, ifVersion } = body;
    if (routedKey !== undefined && routedKey !== key) throw keyMismatch(routedKey, key);
    checkKeySize(key, maxKeyBytes);
    // Same shortcut as for keys: a UTF-16 unit is at most 3 UTF-8 bytes.
    if (value.length * 3 > maxValueBytes) {
      const valueBytes = Buffer.byteLength(value, 'utf8');
      if (valueBytes > maxValueBytes) throw valueTooLarge(valueBytes, maxValueBytes);
    }
    const options = setOptions(ttl === undefined ? undefined : checkTtl(ttl, 'ttl'), undefined);
    if (ifVersion === undefined) {
      cache.set(key, value, options);
      return OK;
    }
    const version = cache.setIf(key, value, ifVersion, options);
    if (version === 0) throw preconditionFailed(key, cache.getEntryBytes(key, { peek: true })?.version ?? 0);
    return storedVersionReply(version);
  };

  const get: Handler = (req) => {
    const key = keyFromQuery(req.path_query);
    checkKeySize(key, maxKeyBytes);
    const entry = cache.getEntry(key);
    const p = req.headers['if-match'] === undefined && req.headers['if-none-match'] === undefined ? undefined : preconditionsOf(req.headers);
    if (entry === undefined) {
      if (p?.ifMatch !== undefined) throw preconditionFailed(key, 0);
      return notFound(key);
    }
    if (p !== undefined && hasPreconditions(p)) {
      const outcome = readOutcome(p, entry.version);
      if (outcome === 'failed') throw preconditionFailed(key, entry.version);
      if (outcome === 'not_modified') return notModified(entry.version, entry.remainingTTL);
    }
    return jsonReply(200, `{"key":${JSON.stringify(key)},"value":${JSON.stringify(entry.value)}}`, entryHeaders(entry.version, entry.remainingTTL));
  };

  const health: Handler = () => HEALTHY;

  // Event-loop delay of this thread, sampled every 10 ms by libuv; /stats reports and resets it,
  // so each /stats reply covers the time since the previous one (the soak samples it every second).
  // The histogram records the whole interval between samples; the 10 ms period is taken off.
  const loopDelayResolutionMs = 10;
  const loopDelay = monitorEventLoopDelay({ resolution: loopDelayResolutionMs });
  loopDelay.enable();
  let loopDelaySince = Date.now();
  const eventLoopDelay = (): Record<string, number> => {
    const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e3 - loopDelayResolutionMs * 1e3) / 1e3);
    const now = Date.now();
    const summary = {
      window_ms: now - loopDelaySince,
      mean_ms: Number.isNaN(loopDelay.mean) ? 0 : ms(loopDelay.mean),
      p50_ms: ms(loopDelay.percentile(50)),
      p99_ms: ms(loopDelay.percentile(99)),
      max_ms: ms(loopDelay.max),
    };
    loopDelay.reset();
    loopDelaySince = now;
    return summary;
  };

  const stats: Handler = () => {
    const memory = process.memoryUsage();
    return jsonReply(
      200,
      JSON.stringify({
        // The whole cache: every server thread shares it.
        engine: cache.stats(),
        // Requests answered by each server thread (one entry with THREADS=1).
        threads: ctx.metrics?.threadRequests() ?? [],
        // Requests by route and status, latency buckets and percentiles, since start (all threads).
        http: ctx.metrics?.httpStats() ?? null,
        snapshot: ctx.snapshotStatus?.() ?? null,
        // What the server runs on: which uWS build loaded depends on the Node version and glibc (README).
        runtime: { node: process.version, uws: ctx.uws.build, uws_package: `${ctx.uws.packageName}@${ctx.uws.packageVersion}`, glibc: ctx.uws.glibc },
        process: {
          pid: process.pid,
          uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
          rss_bytes: memory.rss,
          heap_total_bytes: memory.heapTotal,
          heap_used_bytes: memory.heapUsed,
          external_bytes: memory.external,
          array_buffers_bytes: memory.arrayBuffers,
          event_loop_delay: eventLoopDelay(),
        },
      }),
    );
  };

  const metrics: Handler = async () => {
    const registry = ctx.metrics;
    if (!registry) throw new Error('metrics used before they were created');
    return { status: 200, body: await registry.render(), contentType: registry.contentType };
  };

  return [
    { method: 'put', pattern: '/put', handler: put },
    { method: 'post', pattern: '/put', handler: put },
    { method: 'get', pattern: '/get', handler: get },
    ...kvRoutes(ctx),
    ...batchRoutes(ctx),
    { method: 'get', pattern: '/health', handler: health },
    { method: 'get', pattern: '/stats', handler: stats },
    { method: 'get', pattern: '/metrics', handler: metrics },
    dashboardRoute,
  ];
}

const HEALTHY = jsonReply(200, '{"status":"ok"}');

function keyMismatch(routedKey: string, bodyKey: string): HttpError {
  return badRequest(
    'key_mismatch',
    `the URL's key ${JSON.stringify(routedKey)} is not the body's key ${JSON.stringify(bodyKey)}: ` +
      'a router picks the node by the URL\'s key, so the two must be equal. If you did not send ?key=, ' +
      'your router read it from the body and got it wrong (e.g. a \\u escape of a non-ASCII character): ' +
      'send /put?key=<url-encoded key> yourself (docs/cluster.md)',
  );
}

/** The metrics label of a route. */
export function labelOf(spec: RouteSpec): RouteLabel {
  return { route: spec.pattern, method: spec.method.toUpperCase() };
}
