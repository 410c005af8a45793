/**
 * Prometheus metrics (prom-client, one registry per server instance).
 *
 * Engine numbers (hits, misses, items, bytes, evictions) are read from
 * `cache.stats()` once per scrape, so serving requests costs nothing for them.
 * Request counts by route, method and status, and the latency histogram, are
 * plain increments in this thread's row of a shared typed array on the hot
 * path (prom-client's labelled `inc` hashes its labels on every call), read at
 * scrape time. With THREADS > 1 every server thread writes its own row of the
 * same SharedArrayBuffer (threadCounters.ts), so whichever thread serves the
 * scrape reports all of them: requests with a `thread` label, latency summed
 * over threads.
 *
 * Row layout, per route r (R routes), then per auth failure reason a:
 *   [r * STATUS_SLOTS + s]                      requests answered with status slot s
 *   [LATENCY_BASE + r * LATENCY_SLOTS + b]      requests whose latency fell in bucket b (last: +Inf)
 *   [SUM_BASE + r]                              sum of latencies, seconds
 *   [AUTH_BASE + a]                             requests refused for reason AUTH_FAILURE_REASONS[a]
 */

import type { CacheStats, SlabLruCache } from '@slabcache/engine';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';

import { AUTH_FAILURE_REASONS, type AuthFailureReason } from './auth/gate.js';
import { histogramQuantile } from './histogram.js';
import { ThreadCounters } from './threadCounters.js';

/** A route as metrics label it: the pattern it was registered with and the method. */
export interface RouteLabel {
  readonly route: string;
  readonly method: string;
}

/** Statuses the server answers with; anything else is counted under "other". */
const STATUSES = [200, 204, 304, 400, 401, 403, 404, 405, 412, 413, 429, 500, 503] as const;
const OTHER_STATUS = STATUSES.length;
const STATUS_SLOTS = STATUSES.length + 1;
const STATUS_SLOT = new Uint8Array(600).fill(OTHER_STATUS);
STATUSES.forEach((status, slot) => (STATUS_SLOT[status] = slot));

/** Latency buckets in seconds: a loopback cache answers in tens of microseconds. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** The buckets plus +Inf. */
const LATENCY_SLOTS = LATENCY_BUCKETS.length + 1;
/** The bucket bounds in milliseconds, as /stats reports them. */
const LATENCY_BOUNDS_MS = LATENCY_BUCKETS.map((seconds) => Math.round(seconds * 1e6) / 1e3);

/** Cells one thread's row needs for `routeCount` routes (see the layout above). */
export function metricCellsFor(routeCount: number): number {
  return routeCount * (STATUS_SLOTS + LATENCY_SLOTS + 1) + AUTH_FAILURE_REASONS.length;
}

const AUTH_REASON_SLOT = new Map<AuthFailureReason, number>(AUTH_FAILURE_REASONS.map((reason, slot) => [reason, slot]));

/** Counters for `threads` server threads serving `routes`: create once, in the main thread. */
export function createThreadCounters(routes: readonly RouteLabel[], threads: number): ThreadCounters {
  return ThreadCounters.create(threads, metricCellsFor(routes.length));
}

/** A quantile of latency buckets in milliseconds, rounded to the microsecond (null when empty). */
function roundedQuantileMs(q: number, buckets: readonly number[]): number | null {
  const ms = histogramQuantile(q, LATENCY_BOUNDS_MS, buckets);
  return ms === null ? null : Math.round(ms * 1000) / 1000;
}

/** Requests one thread has answered so far. */
export interface ThreadRequests {
  readonly id: number;
  readonly requests: number;
}

/** Requests and latency of one route (pattern + method) over every thread, for /stats. */
export interface RouteHttpStats {
  readonly route: string;
  readonly method: string;
  readonly requests: number;
  /** Requests by status code ("other" for codes the server does not normally answer). */
  readonly statuses: Readonly<Record<string, number>>;
  readonly latency: {
    readonly sum_ms: number;
    /** Since start, estimated from the buckets as Prometheus's histogram_quantile() does. */
    readonly p50_ms: number | null;
    readonly p99_ms: number | null;
    /** Requests per bucket (not cumulative), one per HttpStats.latency_bounds_ms and a last one for +Inf. */
    readonly buckets: readonly number[];
  };
}

/** The `http` section of /stats: every route that has answered a request, since start. */
export interface HttpStats {
  /** Upper bounds of the latency buckets, in milliseconds (the +Inf bucket is implied). */
  readonly latency_bounds_ms: readonly number[];
  readonly routes: readonly RouteHttpStats[];
}

/** Which row of the shared counters this server writes. */
export interface MetricsThread {
  readonly counters: ThreadCounters;
  readonly thread: number;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #cache: SlabLruCache;
  readonly #routes: readonly RouteLabel[];
  readonly #counters: ThreadCounters;
  /** This thread's row (layout in the file comment). */
  readonly #row: Float64Array;
  readonly #latencyBase: number;
  readonly #sumBase: number;
  readonly #authBase: number;
  /** The engine stats of the latest scrape: every collect() of one scrape reads the same snapshot. */
  #stats: CacheStats | undefined;

  /**
   * `thread` says which row of which shared counters this server writes; without
   * it the server is alone (one thread, counters of its own).
   */
  constructor(cache: SlabLruCache, routes: readonly RouteLabel[], thread?: MetricsThread) {
    this.#routes = routes;
    this.#counters = thread?.counters ?? createThreadCounters(routes, 1);
    if (this.#counters.cellsPerThread !== metricCellsFor(routes.length)) {
      throw new Error('shared counters were sized for a different route table');
    }
    this.#row = this.#counters.row(thread?.thread ?? 0);
    this.#latencyBase = routes.length * STATUS_SLOTS;
    this.#sumBase = this.#latencyBase + routes.length * LATENCY_SLOTS;
    this.#authBase = this.#sumBase + routes.length;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    const counters = this.#counters;
    new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route pattern, method, status and server thread',
      labelNames: ['route', 'method', 'status', 'thread'] as const,
      registers,
      collect() {
        this.reset();
        for (let t = 0; t < counters.threads; t++) {
          const row = counters.row(t);
          const thread = String(t);
          routes.forEach((label, r) => {
            for (let s = 0; s < STATUS_SLOTS; s++) {
              const count = row[r * STATUS_SLOTS + s] ?? 0;
              if (count === 0) continue;
              const status = s === OTHER_STATUS ? 'other' : String(STATUSES[s]);
              this.inc({ route: label.route, method: label.method, status, thread }, count);
            }
          });
        }
      },
    });
    this.registry.registerMetric(this.#latencyHistogram());
    const authBase = this.#authBase;
    new Counter({
      name: 'slabcache_auth_failures_total',
      help: 'Requests refused for access (all threads): missing_token and invalid_token (401), read_only_token (403), locked_out (429 after AUTH_FAILURE_LIMIT failures), protected_mode (403)',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        this.reset();
        AUTH_FAILURE_REASONS.forEach((reason, a) => {
          let count = 0;
          for (let t = 0; t < counters.threads; t++) count += counters.row(t)[authBase + a] as number;
          this.inc({ reason }, count);
        });
      },
    });

    const stat = (read: (s: CacheStats) => number) => (): number => (this.#stats ? read(this.#stats) : 0);
    this.#engineCounter('slabcache_get_hits_total', 'Cache lookups that found a live entry', stat((s) => s.get_hits));
    this.#engineCounter('slabcache_get_misses_total', 'Cache lookups that found nothing (expired included)', stat((s) => s.get_misses));
    this.#engineCounter('slabcache_sets_total', 'Cache set calls, stored or refused', stat((s) => s.cmd_set));
    this.#engineCounter('slabcache_reclaimed_total', 'Expired entries removed', stat((s) => s.reclaimed));
    const evictions = stat((s) => s.evictions_by_cause.keys);
    const evictionsBytes = stat((s) => s.evictions_by_cause.bytes);
    const evictionsSize = stat((s) => s.evictions_by_cause.size);
    new Counter({
      name: 'slabcache_evictions_total',
      help: 'Live entries evicted to make room, by cause (keys: MAX_KEYS reached; bytes: slab memory full; size: MAX_SIZE reached)',
      labelNames: ['cause'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ cause: 'keys' }, evictions());
        this.inc({ cause: 'bytes' }, evictionsBytes());
        this.inc({ cause: 'size' }, evictionsSize());
      },
    });
    this.#engineGauge('slabcache_items', 'Entries in the cache', stat((s) => s.curr_items));
    this.#engineGauge('slabcache_bytes', 'Header, key and value bytes of the entries in the cache', stat((s) => s.bytes));
    this.#engineGauge('slabcache_payload_bytes', 'Key and value bytes of the entries in the cache (what MAX_SIZE bounds)', stat((s) => s.payload_bytes));
    this.#engineGauge('slabcache_limit_size', 'Most key and value bytes the entries may hold (MAX_SIZE; 0 = no bound)', stat((s) => s.limit_maxsize));
    this.#engineGauge('slabcache_limit_items', 'Most entries the cache holds (MAX_KEYS)', stat((s) => s.limit_maxkeys));
    this.#engineGauge('slabcache_limit_bytes', 'Slab memory the cache may use (MAX_BYTES in whole pages)', stat((s) => s.limit_maxbytes));
    this.#engineGauge('slabcache_slab_bytes', 'Slab memory assigned to size classes now', stat((s) => s.slab_bytes));
    this.#sizeClassMetrics();
    this.#cache = cache;
  }

  /** Counts one answered request; `routeIndex` is the route's position in the constructor's list. */
  observe(routeIndex: number, status: number, seconds: number): void {
    const row = this.#row;
    const cell = routeIndex * STATUS_SLOTS + (STATUS_SLOT[status] ?? OTHER_STATUS);
    row[cell] = (row[cell] as number) + 1;
    // Prometheus buckets are "less than or equal": the first bound >= seconds.
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[bucket] as number)) bucket++;
    const latencyCell = this.#latencyBase + routeIndex * LATENCY_SLOTS + bucket;
    row[latencyCell] = (row[latencyCell] as number) + 1;
    const sumCell = this.#sumBase + routeIndex;
    row[sumCell] = (row[sumCell] as number) + seconds;
  }

  /** Counts one request refused by the access gate (auth/gate.ts). */
  countAuthFailure(reason: AuthFailureReason): void {
    const cell = this.#authBase + (AUTH_REASON_SLOT.get(reason) as number);
    this.#row[cell] = (this.#row[cell] as number) + 1;
  }

  /** Requests answered by each server thread (all threads share the counters). */
  threadRequests(): ThreadRequests[] {
    const requestCells = this.#latencyBase;
    const out: ThreadRequests[] = [];
    for (let t = 0; t < this.#counters.threads; t++) {
      const row = this.#counters.row(t);
      let requests = 0;
      for (let c = 0; c < requestCells; c++) requests += row[c] as number;
      out.push({ id: t, requests });
    }
    return out;
  }

  /**
   * Requests by route and status and the latency buckets, summed over every
   * thread's row (routes that answered nothing are left out). A read of a few
   * hundred shared cells: cheap enough for /stats to call on every request.
   */
  httpStats(): HttpStats {
    const counters = this.#counters;
    const rows: Float64Array[] = [];
    for (let t = 0; t < counters.threads; t++) rows.push(counters.row(t));
    const routes: RouteHttpStats[] = [];
    this.#routes.forEach(({ route, method }, r) => {
      const statuses: Record<string, number> = {};
      let requests = 0;
      for (let s = 0; s < STATUS_SLOTS; s++) {
        let count = 0;
        for (const row of rows) count += row[r * STATUS_SLOTS + s] as number;
        if (count === 0) continue;
        requests += count;
        statuses[s === OTHER_STATUS ? 'other' : String(STATUSES[s])] = count;
      }
      if (requests === 0) return; // most labels (405s, unused routes) never answer: skip them cheaply
      const buckets = new Array<number>(LATENCY_SLOTS).fill(0);
      let sumSeconds = 0;
      for (const row of rows) {
        for (let b = 0; b < LATENCY_SLOTS; b++) buckets[b] = (buckets[b] as number) + (row[this.#latencyBase + r * LATENCY_SLOTS + b] as number);
        sumSeconds += row[this.#sumBase + r] as number;
      }
      routes.push({
        route,
        method,
        requests,
        statuses,
        latency: {
          sum_ms: Math.round(sumSeconds * 1e6) / 1e3,
          p50_ms: roundedQuantileMs(0.5, buckets),
          p99_ms: roundedQuantileMs(0.99, buckets),
          buckets,
        },
      });
    });
    return { latency_bounds_ms: LATENCY_BOUNDS_MS, routes };
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    this.#stats = this.#cache.stats();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Route labels, in index order (for tests and logs). */
  get routes(): readonly RouteLabel[] {
    return this.#routes;
  }

  /**
   * The latency histogram, summed over every thread's row at scrape time. It is
   * a hand-made prom-client metric (the `get()` shape of prom-client's own
   * Histogram): a prom-client Histogram can only be fed by observe() calls in
   * the thread that owns it.
   */
  #latencyHistogram(): Metric {
    const name = 'http_request_duration_seconds';
    const help = 'Time from routing a request to handing its response to uWS, by route pattern and method (all threads)';
    const routes = this.#routes;
    const counters = this.#counters;
    const latencyBase = this.#latencyBase;
    const sumBase = this.#sumBase;
    const get = () => {
      const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
      routes.forEach(({ route, method }, r) => {
        const buckets = new Array<number>(LATENCY_SLOTS).fill(0);
        let sum = 0;
        for (let t = 0; t < counters.threads; t++) {
          const row = counters.row(t);
          for (let b = 0; b < LATENCY_SLOTS; b++) buckets[b] = (buckets[b] as number) + (row[latencyBase + r * LATENCY_SLOTS + b] as number);
          sum += row[sumBase + r] as number;
        }
        let cumulative = 0;
        for (let b = 0; b < LATENCY_SLOTS; b++) {
          cumulative += buckets[b] as number;
          const le = b < LATENCY_BUCKETS.length ? (LATENCY_BUCKETS[b] as number) : '+Inf';
          values.push({ labels: { le, route, method }, value: cumulative, metricName: `${name}_bucket` });
        }
        values.push({ labels: { route, method }, value: sum, metricName: `${name}_sum` });
        values.push({ labels: { route, method }, value: cumulative, metricName: `${name}_count` });
      });
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    };
    return { name, help, type: 'histogram', aggregator: 'sum', get } as unknown as Metric;
  }

  /**
   * Slab memory by size class, labelled with the class's chunk size in bytes.
   * Only classes that own a page or have evicted are reported (a cache has
   * about 90 classes and most workloads use a handful).
   */
  #sizeClassMetrics(): void {
    const registers = [this.registry];
    const classes = (): CacheStats['classes'] =>
      (this.#stats?.classes ?? []).filter((c) => c.total_pages > 0 || c.evictions > 0);
    const pageBytes = (): number => this.#stats?.page_size ?? 0;
    const perClass = (name: string, help: string, value: (c: CacheStats['classes'][number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['chunk_size'] as const,
        registers,
        collect() {
          this.reset();
          for (const c of classes()) this.set({ chunk_size: String(c.chunk_size) }, value(c));
        },
      });
    };
    perClass('slabcache_class_slab_bytes', 'Slab memory owned by a size class (its pages), by chunk size', (c) => c.total_pages * pageBytes());
    perClass('slabcache_class_used_bytes', 'Chunk bytes holding entries in a size class, by chunk size', (c) => c.used_chunks * c.chunk_size);
    perClass('slabcache_class_requested_bytes', 'Header, key and value bytes of the entries in a size class, by chunk size', (c) => c.mem_requested);
    perClass('slabcache_class_items', 'Entries in a size class, by chunk size', (c) => c.used_chunks);
    new Counter({
      name: 'slabcache_class_evictions_total',
      help: 'Entries evicted from a size class (any cause), by chunk size',
      labelNames: ['chunk_size'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of classes()) this.inc({ chunk_size: String(c.chunk_size) }, c.evictions);
      },
    });
  }

  #engineCounter(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  #engineGauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
