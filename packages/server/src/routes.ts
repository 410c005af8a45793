/**
 * The HTTP API, as handlers that turn a request into a `Reply`:
 *
 *   PUT|POST /put      {"key","value"} JSON (the seed's API)       200 {"ok":true}
 *                      optional ?key= must equal the body's key     (400 key_mismatch)
 *   GET      /get?key=                                             200 {"key","value"} | 404
 *   GET      /kv/:key  raw bytes, stored Content-Type              200 | 404
 *   HEAD     /kv/:key  as GET without the body; no recency bump     200 | 404
 *   PUT      /kv/:key  raw body = value, Content-Type kept          200 {"ok":true}
 *   DELETE   /kv/:key                                              200 {"ok":true} | 404
 *   GET      /health, /stats, /metrics
 *   GET      /dashboard  a static page that polls /stats (dashboard/route.ts)
 *
 * Every check runs before the cache is touched, so a refused request changes
 * nothing. Values are stored through storedValue.ts (a content-type header in
 * front of the bytes); reads hand uWS the engine's copy of the bytes, or for
 * /get one JSON string built from the decoded value.
 */

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SnapshotStatus } from './snapshots.js';
import type { UwsBuild } from './uws.js';

import type { SlabLruCache } from '@slabcache/engine';
import type { Request } from 'hyper-express';

import { parseJson, readBody } from './body.js';
import { dashboardRoute } from './dashboard/route.js';
import type { ServerConfig } from './config.js';
import { badRequest, HttpError, valueTooLarge } from './errors.js';
import { checkKeySize, keyFromPath, keyFromQuery, optionalKeyFromQuery } from './keys.js';
import type { RouteLabel, ServerMetrics } from './metrics.js';
import { errorReply, jsonReply, type Reply } from './reply.js';
import { describeValidationError, validatePutBody } from './schemas.js';
import { bytesOf, contentTypeOf, encodeBytes, encodeText, isStorableContentType, MAX_CONTENT_TYPE_BYTES, textOf } from './storedValue.js';

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

/** The answer to a successful write or delete. (No 204: uWS 20.30 sends a bogus Content-Length with it.) */
const OK = jsonReply(200, '{"ok":true}');

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
  const kvValueTooLarge = (actual: number): HttpError => valueTooLarge(actual, maxValueBytes);

  const put: Handler = async (req) => {
    // The routable form /put?key=K (docs/cluster.md): a router chose the node by K, so the
    // entry must be stored under K, or reads of K would look for it on another node.
    const routedKey = optionalKeyFromQuery(req.path_query);
    const body = parseJson(await readBody(req, putLimit, putBodyTooLarge));
    if (!validatePutBody(body)) {
      const { code, message } = describeValidationError(validatePutBody.errors);
      throw badRequest(code, message);
    }
    const { key, value } = body;
    if (routedKey !== undefined && routedKey !== key) throw keyMismatch(routedKey, key);
    checkKeySize(key, maxKeyBytes);
    // Same shortcut as for keys: a UTF-16 unit is at most 3 UTF-8 bytes.
    if (value.length * 3 > maxValueBytes) {
      const valueBytes = Buffer.byteLength(value, 'utf8');
      if (valueBytes > maxValueBytes) throw valueTooLarge(valueBytes, maxValueBytes);
    }
    cache.set(key, encodeText(value));
    return OK;
  };

  const get: Handler = (req) => {
    const key = keyFromQuery(req.path_query);
    checkKeySize(key, maxKeyBytes);
    const stored = cache.get(key);
    if (stored === undefined) return notFound(key);
    return jsonReply(200, `{"key":${JSON.stringify(key)},"value":${JSON.stringify(textOf(stored))}}`);
  };

  const kvKey = (req: Request): string => {
    const key = keyFromPath(req.path_parameters['key']);
    checkKeySize(key, maxKeyBytes);
    return key;
  };

  const kvGet: Handler = (req) => {
    const key = kvKey(req);
    const stored = cache.getBytes(key);
    if (stored === undefined) return notFound(key);
    return { status: 200, body: bytesOf(stored), contentType: contentTypeOf(stored) };
  };

  // HEAD reports what GET would send without changing recency or hit counters.
  const kvHead: Handler = (req) => {
    const key = kvKey(req);
    const stored = cache.peekBytes(key);
    if (stored === undefined) return notFound(key);
    return { status: 200, body: bytesOf(stored), contentType: contentTypeOf(stored) };
  };

  const kvPut: Handler = async (req) => {
    const key = kvKey(req);
    const contentType = req.headers['content-type'];
    if (contentType !== undefined && !isStorableContentType(contentType)) {
      throw badRequest(
        'invalid_content_type',
        `Content-Type must be printable ASCII of at most ${MAX_CONTENT_TYPE_BYTES} bytes to be stored with the value`,
      );
    }
    const body = await readBody(req, maxValueBytes, kvValueTooLarge);
    cache.set(key, encodeBytes(body, contentType === '' ? undefined : contentType));
    return OK;
  };

  const kvDelete: Handler = (req) => {
    const key = kvKey(req);
    return cache.delete(key) ? OK : notFound(key);
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
    { method: 'get', pattern: '/kv/:key', handler: kvGet },
    { method: 'head', pattern: '/kv/:key', handler: kvHead },
    { method: 'put', pattern: '/kv/:key', handler: kvPut },
    { method: 'delete', pattern: '/kv/:key', handler: kvDelete },
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

function notFound(key: string): Reply {
  return errorReply(404, 'not_found', `no value for key ${JSON.stringify(key)}`);
}

/** The metrics label of a route. */
export function labelOf(spec: RouteSpec): RouteLabel {
  return { route: spec.pattern, method: spec.method.toUpperCase() };
}
