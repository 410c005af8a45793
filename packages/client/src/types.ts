/** The shapes the client takes and returns. */

export interface ClientOptions {
  /** One server, e.g. `http://127.0.0.1:7171` (or a router in front of many). Give `url` or `nodes`. */
  url?: string;
  /**
   * Several servers, each holding its share of the keys: the client picks a
   * key's node itself (rendezvous hashing, hashing.ts) and fails over to the
   * next one when a node does not answer.
   */
  nodes?: readonly string[];
  /**
   * Budget of each call, retries included, in ms; also the connect timeout.
   * Time queued for a free connection (more calls in flight than `connections`)
   * is not counted. Default 5000.
   */
  timeout?: number;
  /** Extra attempts of an idempotent call after a connection failure or a 502/503/504. Default 2. */
  retries?: number;
  /** First pause before a retry, in ms; doubled each time, with jitter, at most 1 s. Default 25. */
  retryDelay?: number;
  /** With `nodes`: how long a node that did not answer is skipped before it is tried again, in ms. Default 5000. */
  nodeDownMs?: number;
  /** Keep-alive connections per node. Default 16. */
  connections?: number;
  /** Keys per /mget, /mset or /mdel request; larger batches are split. Default 1000 (the server's MAX_BATCH_KEYS). */
  batchSize?: number;
  /**
   * A bearer token, for a server with AUTH_TOKEN (or AUTH_READ_TOKEN: then only
   * reads succeed): sent as `Authorization: Bearer <token>` with every request
   * (docs/security.md). Default: none.
   */
  token?: string;
}

export interface CallOptions {
  /** This call's budget in ms, instead of the client's `timeout`. */
  timeout?: number;
  /** Aborts the call (it then rejects with SlabcacheAbortError). */
  signal?: AbortSignal;
}

export interface SetOptions extends CallOptions {
  /** Time to live in ms; 0 = never expires. Default: the server's DEFAULT_TTL. */
  ttl?: number;
  /** Stored with the value and sent back by `GET /kv`, e.g. `image/png`. Default: none (served as application/octet-stream). */
  contentType?: string;
}

export interface Entry {
  /** The value's bytes, exactly as stored. */
  readonly value: Buffer;
  /** The entry's version: pass it to `cas`. */
  readonly version: number;
  /** The stored Content-Type, or application/octet-stream. */
  readonly contentType: string;
  /** ms left before it expires, or undefined if it never does. */
  readonly ttl: number | undefined;
}

export interface BatchEntry {
  key: string;
  /** A string: /mset is JSON. Store bytes with `set`. */
  value: string;
  /** ms; 0 = never expires. Default: the server's DEFAULT_TTL. */
  ttl?: number;
}

export interface NodeHealth {
  readonly url: string;
  readonly ok: boolean;
  /** Why not, when not ok. */
  readonly error?: string;
}

export interface HealthReport {
  /** True when every node answered /health with 200. */
  readonly ok: boolean;
  readonly nodes: readonly NodeHealth[];
}

/** The engine's counters in /stats (memcached names); the server sends more fields than listed here. */
export interface EngineStats {
  readonly get_hits: number;
  readonly get_misses: number;
  readonly cmd_get: number;
  readonly cmd_set: number;
  readonly curr_items: number;
  readonly bytes: number;
  readonly limit_maxbytes: number;
  readonly limit_maxkeys: number;
  readonly evictions: number;
  readonly cas_hits: number;
  readonly cas_badval: number;
  readonly cas_misses: number;
  readonly [field: string]: unknown;
}

/** A node's /stats (see the server README). */
export interface ServerStats {
  readonly engine: EngineStats;
  readonly threads: readonly { readonly id: number; readonly requests: number }[];
  readonly http: unknown;
  readonly snapshot: unknown;
  readonly process: { readonly pid: number; readonly uptime_seconds: number; readonly rss_bytes: number; readonly [field: string]: unknown };
  readonly [field: string]: unknown;
}
