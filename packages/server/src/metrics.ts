/**
 * Prometheus metrics (prom-client, one registry per server instance).
 *
 * Engine numbers (hits, misses, items, bytes, evictions) are read from
 * `cache.stats()` once per scrape, so serving requests costs nothing for them.
 * Request counts by route, method and status are plain increments in a typed
 * array on the hot path (prom-client's labelled `inc` hashes its labels on
 * every call) and are handed to prom-client at scrape time. The latency
 * histogram uses prom-client children bound once per route.
 */

import type { CacheStats, SlabLruCache } from '@slabcache/engine';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A route as metrics label it: the pattern it was registered with and the method. */
export interface RouteLabel {
  readonly route: string;
  readonly method: string;
}

/** Statuses the server answers with; anything else is counted under "other". */
const STATUSES = [200, 204, 400, 404, 405, 413, 429, 500] as const;
const OTHER_STATUS = STATUSES.length;
const STATUS_SLOTS = STATUSES.length + 1;
const STATUS_SLOT = new Uint8Array(600).fill(OTHER_STATUS);
STATUSES.forEach((status, slot) => (STATUS_SLOT[status] = slot));

/** Latency buckets in seconds: a loopback cache answers in tens of microseconds. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

interface LatencyChild {
  observe(seconds: number): void;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #cache: SlabLruCache;
  readonly #routes: readonly RouteLabel[];
  /** requests[route * STATUS_SLOTS + statusSlot] */
  readonly #requests: Float64Array;
  readonly #latency: readonly LatencyChild[];
  /** The engine stats of the latest scrape: every collect() of one scrape reads the same snapshot. */
  #stats: CacheStats | undefined;

  constructor(cache: SlabLruCache, routes: readonly RouteLabel[]) {
    this.#routes = routes;
    this.#requests = new Float64Array(routes.length * STATUS_SLOTS);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    const requests = this.#requests;
    new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
      collect() {
        this.reset();
        routes.forEach((label, r) => {
          for (let s = 0; s < STATUS_SLOTS; s++) {
            const count = requests[r * STATUS_SLOTS + s] ?? 0;
            if (count === 0) continue;
            const status = s === OTHER_STATUS ? 'other' : String(STATUSES[s]);
            this.inc({ route: label.route, method: label.method, status }, count);
          }
        });
      },
    });
    const latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from routing a request to handing its response to uWS, by route pattern and method',
      labelNames: ['route', 'method'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#latency = routes.map((label) => latency.labels(label.route, label.method));

    const stat = (read: (s: CacheStats) => number) => (): number => (this.#stats ? read(this.#stats) : 0);
    this.#engineCounter('slabcache_get_hits_total', 'Cache lookups that found a live entry', stat((s) => s.get_hits));
    this.#engineCounter('slabcache_get_misses_total', 'Cache lookups that found nothing (expired included)', stat((s) => s.get_misses));
    this.#engineCounter('slabcache_sets_total', 'Cache set calls, stored or refused', stat((s) => s.cmd_set));
    this.#engineCounter('slabcache_reclaimed_total', 'Expired entries removed', stat((s) => s.reclaimed));
    const evictions = stat((s) => s.evictions_by_cause.keys);
    const evictionsBytes = stat((s) => s.evictions_by_cause.bytes);
    new Counter({
      name: 'slabcache_evictions_total',
      help: 'Live entries evicted to make room, by cause (keys: MAX_KEYS reached; bytes: slab memory full)',
      labelNames: ['cause'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ cause: 'keys' }, evictions());
        this.inc({ cause: 'bytes' }, evictionsBytes());
      },
    });
    this.#engineGauge('slabcache_items', 'Entries in the cache', stat((s) => s.curr_items));
    this.#engineGauge('slabcache_bytes', 'Header, key and value bytes of the entries in the cache', stat((s) => s.bytes));
    this.#engineGauge('slabcache_limit_items', 'Most entries the cache holds (MAX_KEYS)', stat((s) => s.limit_maxkeys));
    this.#engineGauge('slabcache_limit_bytes', 'Slab memory the cache may use (MAX_BYTES in whole pages)', stat((s) => s.limit_maxbytes));
    this.#engineGauge('slabcache_slab_bytes', 'Slab memory assigned to size classes now', stat((s) => s.slab_bytes));
    this.#cache = cache;
  }

  /** Counts one answered request; `routeIndex` is the route's position in the constructor's list. */
  observe(routeIndex: number, status: number, seconds: number): void {
    const cell = routeIndex * STATUS_SLOTS + (STATUS_SLOT[status] ?? OTHER_STATUS);
    this.#requests[cell] = (this.#requests[cell] as number) + 1;
    this.#latency[routeIndex]?.observe(seconds);
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
