/**
 * Optional rate limiting: one token bucket per client IP, in a table of fixed
 * size, so that a flood of distinct addresses cannot grow memory.
 *
 * Each client owns a bucket of `burst` tokens that refills at `ratePerSecond`
 * tokens per second; a request takes one token, and a request that finds the
 * bucket empty is refused with 429 and a `Retry-After` of the whole seconds
 * until the next token. Buckets are refilled lazily, from the time elapsed
 * since the client's last request, so an idle client costs nothing.
 *
 * Bounded storage. The table holds at most `maxClients` buckets (a Map kept in
 * least-recently-seen order: a bucket is moved to the end on every request).
 * When a new client arrives at a full table, the least recently seen bucket is
 * dropped. Dropping a bucket that has refilled to full changes nothing (a new
 * bucket starts full); dropping one that has not forgives that client's debt,
 * so under a spray of more than `maxClients` active addresses the limiter errs
 * towards letting requests through rather than towards unbounded memory.
 *
 * The client's address is the socket's peer address. `X-Forwarded-For` is read
 * only when `trustProxy` is on, and then its last entry is used: that is the
 * address the (trusted) proxy in front of us saw and appended; every entry to
 * its left was written by the client and could be forged.
 */

/** Default size of the bucket table: about 100 bytes per bucket, ~6 MB at most. */
export const DEFAULT_RATE_LIMIT_CLIENTS = 65_536;

export interface RateLimitOptions {
  /** Tokens added per second (the sustained request rate allowed per client). */
  readonly ratePerSecond: number;
  /** Bucket capacity: how many requests a client may send at once after being idle. */
  readonly burst: number;
  /** Most buckets kept; the least recently seen is dropped past it. */
  readonly maxClients?: number;
  /** Clock in milliseconds (tests may pass their own). */
  readonly now?: () => number;
}

/** What `take` decided: allowed, or refused with the seconds to wait. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

const ALLOWED: RateDecision = Object.freeze({ allowed: true });

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms. */
  updatedAt: number;
}

export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly maxClients: number;
  readonly #now: () => number;
  /** Iteration order = least recently seen first (entries are re-inserted on every use). */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new RangeError('ratePerSecond must be a positive number');
    }
    if (!Number.isSafeInteger(options.burst) || options.burst < 1) throw new RangeError('burst must be a positive integer');
    const maxClients = options.maxClients ?? DEFAULT_RATE_LIMIT_CLIENTS;
    if (!Number.isSafeInteger(maxClients) || maxClients < 1) throw new RangeError('maxClients must be a positive integer');
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.maxClients = maxClients;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token from `client`'s bucket, or says how long to wait for one. */
  take(client: string): RateDecision {
    const bucket = this.#refilled(client, true) as Bucket;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    return this.#refusal(bucket);
  }

  /**
   * What `take` would decide, without taking a token: for limits that charge
   * only some requests (failed authentications, auth/gate.ts) but refuse every
   * request once the bucket is empty. A client without a bucket is allowed and
   * gets none.
   */
  check(client: string): RateDecision {
    const bucket = this.#refilled(client, false);
    return bucket === undefined || bucket.tokens >= 1 ? ALLOWED : this.#refusal(bucket);
  }

  /** `client`'s bucket brought up to date and moved to the most recently seen end; created if `create`. */
  #refilled(client: string, create: boolean): Bucket | undefined {
    const now = this.#now();
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) {
      if (!create) return undefined;
      if (this.#buckets.size >= this.maxClients) this.#evictLeastRecentlySeen();
      bucket = { tokens: this.burst, updatedAt: now };
    } else {
      this.#buckets.delete(client); // re-inserted below: moves it to the most recently seen end
      const refilled = bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond;
      bucket.tokens = refilled > this.burst ? this.burst : refilled;
      bucket.updatedAt = now;
    }
    this.#buckets.set(client, bucket);
    return bucket;
  }

  #refusal(bucket: Bucket): RateDecision {
    // Whole seconds (Retry-After has no fractions), at least 1.
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
    return { allowed: false, retryAfterSeconds };
  }

  /** Buckets held now (at most maxClients). */
  get size(): number {
    return this.#buckets.size;
  }

  #evictLeastRecentlySeen(): void {
    const oldest = this.#buckets.keys().next();
    if (!oldest.done) this.#buckets.delete(oldest.value);
  }
}

/**
 * The client address to rate-limit by: the socket's peer, or with `trustProxy`
 * the last X-Forwarded-For entry (see the file comment). An empty or missing
 * header falls back to the peer address.
 */
export function clientAddress(peerAddress: string, forwardedFor: string | undefined, trustProxy: boolean): string {
  if (!trustProxy || forwardedFor === undefined) return peerAddress;
  const comma = forwardedFor.lastIndexOf(',');
  const last = (comma === -1 ? forwardedFor : forwardedFor.slice(comma + 1)).trim();
  // Bounded like any key we keep: a forged multi-kilobyte "address" must not become a big table key.
  return last === '' ? peerAddress : last.slice(0, 64);
}
