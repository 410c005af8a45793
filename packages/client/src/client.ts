/**
 * SlabcacheClient: the slabcache HTTP API as typed calls.
 *
 *   get / getBytes / getEntry    GET /kv/<key>          (404 → undefined)
 *   set                          PUT /kv/<key>?ttl=     (Content-Type kept as the entry's metadata)
 *   cas                          PUT /kv/<key> with If-Match / If-None-Match: *   (412 → 0)
 *   delete                       DELETE /kv/<key>       (404 → false)
 *   getMany / setMany / deleteMany   POST /mget /mset /mdel, split into batchSize keys
 *   stats / health               GET /stats, GET /health
 *
 * Each call has a time budget (`timeout`, per client or per call) and an
 * optional AbortSignal; retries and failovers happen inside that budget.
 *
 * Retries: an idempotent call — every one but `cas` — is sent again, after a
 * short backoff, when the node gave no answer (connection refused, reset or
 * closed) or answered 502/503/504; repeating it leaves the same state (a
 * `delete` or `deleteMany` repeated after a lost answer reports the key as
 * already gone). `cas` is sent again only when its connection was refused, so
 * that a compare-and-set is never applied twice.
 *
 * Several nodes (`nodes`): each key goes to the node rendezvous hashing picks
 * (hashing.ts). A node that gives no answer is skipped for `nodeDownMs`, and
 * its keys go to their next-best node meanwhile: reads of them miss, writes
 * land there. Batches are split by node and sent to the nodes in parallel.
 */

import {
  SlabcacheConnectionError,
  SlabcacheError,
  SlabcacheProtocolError,
  SlabcacheServerError,
} from './errors.js';
import { loadHash32, Rendezvous } from './hashing.js';
import { Budget, header, neverSent, Node, serverError, type HttpReply, type HttpRequest } from './transport.js';
import type { BatchEntry, CallOptions, ClientOptions, Entry, HealthReport, NodeHealth, ServerStats, SetOptions } from './types.js';

const DEFAULTS = {
  timeout: 5000,
  retries: 2,
  retryDelay: 25,
  nodeDownMs: 5000,
  connections: 16,
  batchSize: 1000,
} as const;

/** Statuses worth sending an idempotent request again for: the node (or router) was momentarily unable. */
const RETRY_STATUSES = new Set([502, 503, 504]);
const MAX_RETRY_DELAY_MS = 1000;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });

type Resolved = Required<Omit<ClientOptions, 'url' | 'nodes' | 'token'>>;

interface Attempt {
  /** May be sent again after a connection failure or a retryable status. */
  readonly idempotent: boolean;
}

export class SlabcacheClient {
  readonly #nodes: readonly Node[];
  readonly #options: Resolved;
  /** With several nodes: the hash, once loaded. */
  #rendezvous: Rendezvous | undefined;
  #rendezvousLoading: Promise<Rendezvous> | undefined;
  #closed = false;

  constructor(options: ClientOptions) {
    const urls = urlsOf(options);
    this.#options = resolve(options);
    const token = tokenOf(options);
    this.#nodes = urls.map((url) => new Node(url, this.#options.connections, this.#options.timeout, token));
    const distinct = new Set(this.#nodes.map((node) => node.url));
    if (distinct.size !== this.#nodes.length) throw new TypeError('nodes must be distinct URLs');
  }

  /** The nodes' base URLs, as normalised. */
  get nodes(): readonly string[] {
    return this.#nodes.map((node) => node.url);
  }

  /** The node `key` goes to now (with several nodes: the best one that is not being skipped). */
  async nodeFor(key: string): Promise<string> {
    checkKey(key);
    return (await this.#nodeFor(key, NO_EXCLUSIONS)).url;
  }

  /* ---- single keys ---- */

  /** The value as UTF-8 text, or undefined if the key is absent (or expired). */
  async get(key: string, options?: CallOptions): Promise<string | undefined> {
    return (await this.getBytes(key, options))?.toString('utf8');
  }

  /** The value's bytes, exactly as stored, or undefined if the key is absent. */
  async getBytes(key: string, options?: CallOptions): Promise<Buffer | undefined> {
    checkKey(key);
    return this.#keyed(key, options, IDEMPOTENT, { method: 'GET', path: kvPath(key) }, (reply, node) => {
      if (reply.status === 200) return reply.body;
      if (reply.status === 404 && isNotFound(reply, node)) return undefined;
      throw serverError(reply, node);
    });
  }

  /** The value with its version (for `cas`), Content-Type and remaining TTL; undefined if absent. */
  async getEntry(key: string, options?: CallOptions): Promise<Entry | undefined> {
    checkKey(key);
    return this.#keyed(key, options, IDEMPOTENT, { method: 'GET', path: kvPath(key) }, (reply, node) => {
      if (reply.status === 404 && isNotFound(reply, node)) return undefined;
      expectStatus(reply, 200, node);
      const ttl = header(reply, 'x-ttl-ms');
      return {
        value: reply.body,
        version: versionOf(reply, node),
        contentType: header(reply, 'content-type') ?? DEFAULT_CONTENT_TYPE,
        ttl: ttl === undefined ? undefined : Number(ttl),
      };
    });
  }

  /** Stores `value` (text as UTF-8, or bytes) under `key`. */
  async set(key: string, value: string | Uint8Array, options?: SetOptions): Promise<void> {
    checkKey(key);
    await this.#keyed(key, options, IDEMPOTENT, putRequest(key, value, options, undefined), (reply, node) => expectStatus(reply, 200, node));
  }

  /**
   * Compare-and-set: stores `value` only if the entry's version is still
   * `expectedVersion` (from `getEntry` or an earlier `cas`); 0 means only if
   * the key is absent. Resolves with the new version, or 0 when the entry had
   * changed (or was absent, or present against 0) and nothing was stored.
   */
  async cas(key: string, value: string | Uint8Array, expectedVersion: number, options?: SetOptions): Promise<number> {
    checkKey(key);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new TypeError(`expectedVersion must be a whole number ≥ 0, got ${String(expectedVersion)}`);
    }
    const condition = expectedVersion === 0 ? { 'if-none-match': '*' } : { 'if-match': `"${expectedVersion}"` };
    return this.#keyed(key, options, NOT_IDEMPOTENT, putRequest(key, value, options, condition), (reply, node) => {
      if (reply.status === 412) return 0;
      expectStatus(reply, 200, node);
      return versionOf(reply, node);
    });
  }

  /** Deletes `key`; true if it held a value. */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    checkKey(key);
    return this.#keyed(key, options, IDEMPOTENT, { method: 'DELETE', path: kvPath(key) }, (reply, node) => {
      if (reply.status === 404 && isNotFound(reply, node)) return false;
      expectStatus(reply, 200, node);
      return true;
    });
  }

  /* ---- batches ---- */

  /** The values of `keys` as text, aligned with them: undefined for a key that is absent. */
  async getMany(keys: readonly string[], options?: CallOptions): Promise<(string | undefined)[]> {
    keys.forEach((key) => checkKey(key));
    const values = new Array<string | undefined>(keys.length).fill(undefined);
    await this.#batched(keys, options, (node, indices, budget) =>
      this.#send(node, budget, IDEMPOTENT, jsonPost('/mget', { keys: indices.map((i) => keys[i]) }), (reply) => {
        expectStatus(reply, 200, node.url);
        const got = (parseJson(reply, node.url) as { values?: unknown }).values;
        if (!Array.isArray(got) || got.length !== indices.length) throw new SlabcacheProtocolError(`${node.url} answered /mget without ${indices.length} values`, node.url);
        indices.forEach((index, n) => {
          const value = got[n] as unknown;
          if (value !== null && typeof value !== 'string') throw new SlabcacheProtocolError(`${node.url} answered /mget with a value that is not a string`, node.url);
          values[index] = value ?? undefined;
        });
      }),
    );
    return values;
  }

  /** Stores every entry (values are text); resolves with how many were stored. A key given twice ends with its last value. */
  async setMany(entries: readonly BatchEntry[], options?: CallOptions): Promise<number> {
    entries.forEach((entry) => {
      checkKey(entry.key);
      if (typeof entry.value !== 'string') throw new TypeError(`setMany values must be strings (use set for bytes); ${JSON.stringify(entry.key)} is not`);
    });
    let stored = 0;
    await this.#batched(
      entries.map((entry) => entry.key),
      options,
      (node, indices, budget) =>
        this.#send(node, budget, IDEMPOTENT, jsonPost('/mset', { entries: indices.map((i) => entryBody(entries[i] as BatchEntry)) }), (reply) => {
          expectStatus(reply, 200, node.url);
          stored += countOf(reply, node.url, 'stored');
        }),
    );
    return stored;
  }

  /** Deletes every key; resolves with how many held a value. */
  async deleteMany(keys: readonly string[], options?: CallOptions): Promise<number> {
    keys.forEach((key) => checkKey(key));
    let deleted = 0;
    await this.#batched(keys, options, (node, indices, budget) =>
      this.#send(node, budget, IDEMPOTENT, jsonPost('/mdel', { keys: indices.map((i) => keys[i]) }), (reply) => {
        expectStatus(reply, 200, node.url);
        deleted += countOf(reply, node.url, 'deleted');
      }),
    );
    return deleted;
  }

  /* ---- nodes ---- */

  /** One node's /stats: the only node, or the one named by `node` (required with several). */
  async stats(options?: CallOptions & { node?: string }): Promise<ServerStats> {
    const node = this.#namedNode(options?.node);
    return this.#withBudget(options, (budget) =>
      this.#send(node, budget, IDEMPOTENT, { method: 'GET', path: '/stats' }, (reply) => {
        expectStatus(reply, 200, node.url);
        return parseJson(reply, node.url) as ServerStats;
      }),
    );
  }

  /** /health of every node; never throws for a node that is down (it is reported). */
  async health(options?: CallOptions): Promise<HealthReport> {
    const nodes = await Promise.all(
      this.#nodes.map((node) =>
        this.#withBudget(options, async (budget): Promise<NodeHealth> => {
          try {
            const reply = await node.send({ method: 'GET', path: '/health' }, budget);
            if (reply.status === 200) return { url: node.url, ok: true };
            return { url: node.url, ok: false, error: `answered ${reply.status}: ${reply.body.toString('utf8', 0, 200)}` };
          } catch (error) {
            return { url: node.url, ok: false, error: error instanceof Error ? error.message : String(error) };
          }
        }),
      ),
    );
    return { ok: nodes.every((n) => n.ok), nodes };
  }

  /** Closes every connection; calls made afterwards throw. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#nodes.map((node) => node.close()));
  }

  /* ---- routing, retries, failover ---- */

  /** A call about one key: to its node, failing over to the next-best node when one gives no answer. */
  #keyed<T>(key: string, options: CallOptions | undefined, attempt: Attempt, request: HttpRequest, read: (reply: HttpReply, node: string) => T): Promise<T> {
    if (this.#nodes.length === 1) {
      // One node: nothing to choose or fail over to.
      const node = this.#nodes[0] as Node;
      return this.#withBudget(options, (budget) => this.#send(node, budget, attempt, request, (reply) => read(reply, node.url)));
    }
    return this.#withBudget(options, async (budget) => {
      const failed = new Set<Node>();
      for (;;) {
        const node = await this.#nodeFor(key, failed);
        try {
          return await this.#send(node, budget, attempt, request, (reply) => read(reply, node.url));
        } catch (error) {
          if (!this.#failOver(error, node, failed)) throw error;
        }
      }
    });
  }

  /**
   * A batch: keys grouped by node, one request per node and `batchSize` keys
   * (in parallel across nodes, in order within one); the keys of a node that
   * gives no answer are grouped again over the remaining nodes.
   */
  async #batched(keys: readonly string[], options: CallOptions | undefined, sendGroup: (node: Node, indices: number[], budget: Budget) => Promise<void>): Promise<void> {
    if (keys.length === 0) return;
    await this.#withBudget(options, async (budget) => {
      const failed = new Set<Node>();
      let pending = keys.map((_, index) => index);
      while (pending.length > 0) {
        const groups = new Map<Node, number[]>();
        if (this.#nodes.length === 1) groups.set(this.#nodes[0] as Node, pending);
        else {
          const rendezvous = this.#rendezvous ?? (await this.#loadRendezvous());
          for (const index of pending) {
            const node = this.#pick(rendezvous, keys[index] as string, failed);
            let group = groups.get(node);
            if (group === undefined) groups.set(node, (group = []));
            group.push(index);
          }
        }
        const retry: number[] = [];
        const errors: unknown[] = [];
        await Promise.all(
          [...groups].map(async ([node, indices]) => {
            for (let start = 0; start < indices.length; start += this.#options.batchSize) {
              const chunk = indices.slice(start, start + this.#options.batchSize);
              try {
                await sendGroup(node, chunk, budget);
              } catch (error) {
                if (!this.#failOver(error, node, failed)) errors.push(error);
                else retry.push(...indices.slice(start));
                return;
              }
            }
          }),
        );
        if (errors.length > 0) throw errors[0];
        pending = retry;
      }
    });
  }

  /** After `error` from `node`: true (node marked down and excluded) when another node can take its keys. */
  #failOver(error: unknown, node: Node, failed: Set<Node>): boolean {
    if (!(error instanceof SlabcacheConnectionError) || this.#nodes.length === 1) return false;
    node.downUntil = Date.now() + this.#options.nodeDownMs;
    failed.add(node);
    return failed.size < this.#nodes.length;
  }

  /**
   * Sends to one node, reading the reply with `read`; retries on the same node
   * as the file comment says. An error reply `read` does not handle becomes a
   * SlabcacheServerError (via expectStatus).
   */
  async #send<T>(node: Node, budget: Budget, attempt: Attempt, request: HttpRequest, read: (reply: HttpReply) => T): Promise<T> {
    if (this.#closed) throw new SlabcacheError('connection_failed', 'the client is closed', node.url);
    for (let tries = 0; ; tries++) {
      budget.check(node.url);
      let reply: HttpReply;
      try {
        reply = await node.send(request, budget);
      } catch (error) {
        // With several nodes a connection failure is the caller's to fail over; alone, retry here.
        const again =
          error instanceof SlabcacheConnectionError && this.#nodes.length === 1 && tries < this.#options.retries && (attempt.idempotent || neverSent(error));
        if (!again) throw error;
        await budget.pause(this.#backoff(tries), node.url);
        continue;
      }
      if (attempt.idempotent && RETRY_STATUSES.has(reply.status) && tries < this.#options.retries) {
        await budget.pause(this.#backoff(tries), node.url);
        continue;
      }
      return read(reply);
    }
  }

  #backoff(tries: number): number {
    const ceiling = Math.min(MAX_RETRY_DELAY_MS, this.#options.retryDelay * 2 ** tries);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  #withBudget<T>(options: CallOptions | undefined, run: (budget: Budget) => Promise<T>): Promise<T> {
    const budget = new Budget(options?.timeout ?? this.#options.timeout, options?.signal);
    budget.check(undefined);
    return run(budget);
  }

  /** The node for `key` now: the best one not failed in this call and not being skipped (or, if all are, not failed). */
  async #nodeFor(key: string, failed: ReadonlySet<Node>): Promise<Node> {
    const nodes = this.#nodes;
    if (nodes.length === 1) return nodes[0] as Node;
    return this.#pick(this.#rendezvous ?? (await this.#loadRendezvous()), key, failed);
  }

  #pick(rendezvous: Rendezvous, key: string, failed: ReadonlySet<Node>): Node {
    const nodes = this.#nodes;
    const now = Date.now();
    let best = rendezvous.best(key, (n) => !failed.has(nodes[n] as Node) && (nodes[n] as Node).downUntil <= now);
    if (best < 0) best = rendezvous.best(key, (n) => !failed.has(nodes[n] as Node));
    return nodes[best] as Node;
  }

  #loadRendezvous(): Promise<Rendezvous> {
    this.#rendezvousLoading ??= loadHash32().then((hash) => (this.#rendezvous = new Rendezvous(this.#nodes.map((node) => node.url), hash)));
    return this.#rendezvousLoading;
  }

  #namedNode(url: string | undefined): Node {
    if (url === undefined) {
      if (this.#nodes.length === 1) return this.#nodes[0] as Node;
      throw new TypeError('this client has several nodes: name one, e.g. stats({ node: client.nodes[0] })');
    }
    const wanted = url.replace(/\/+$/, '');
    const node = this.#nodes.find((n) => n.url === wanted);
    if (node === undefined) throw new TypeError(`${JSON.stringify(url)} is not one of this client's nodes: ${this.nodes.join(', ')}`);
    return node;
  }
}

const IDEMPOTENT: Attempt = { idempotent: true };
const NOT_IDEMPOTENT: Attempt = { idempotent: false };
const NO_EXCLUSIONS: ReadonlySet<Node> = new Set();

function urlsOf(options: ClientOptions): readonly string[] {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object: { url } or { nodes }');
  const { url, nodes } = options;
  if ((url === undefined) === (nodes === undefined)) throw new TypeError('give either url (one server) or nodes (several), not both or neither');
  if (url !== undefined) return [url];
  if (!Array.isArray(nodes) || nodes.length === 0 || !nodes.every((n) => typeof n === 'string')) {
    throw new TypeError('nodes must be a non-empty array of URLs');
  }
  return nodes;
}

function resolve(options: ClientOptions): Resolved {
  const known = new Set(['url', 'nodes', 'token', ...Object.keys(DEFAULTS)]);
  for (const name of Object.keys(options)) if (!known.has(name)) throw new TypeError(`unknown option ${JSON.stringify(name)}`);
  const out = { ...DEFAULTS } as Record<keyof Resolved, number>;
  for (const name of Object.keys(DEFAULTS) as (keyof Resolved)[]) {
    const value = options[name];
    if (value === undefined) continue;
    const positive = name === 'timeout' || name === 'connections' || name === 'batchSize';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < (positive ? 1 : 0)) {
      throw new TypeError(`option ${name} must be a number ≥ ${positive ? 1 : 0}, got ${String(value)}`);
    }
    out[name] = value;
  }
  return out;
}

/** The bearer token, checked: what may follow `Bearer ` in a header (RFC 6750), so it cannot break the header. */
function tokenOf(options: ClientOptions): string | undefined {
  const { token } = options;
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new TypeError('option token must be a bearer token: A-Z a-z 0-9 - . _ ~ + / (and = at the end)');
  }
  return token;
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new TypeError(`a key must be a non-empty string, got ${JSON.stringify(key)}`);
}

function kvPath(key: string): string {
  return `/kv/${encodeURIComponent(key)}`;
}

function putRequest(key: string, value: string | Uint8Array, options: SetOptions | undefined, condition: Record<string, string> | undefined): HttpRequest {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new TypeError(`a value must be a string or a Uint8Array, got ${typeof value}`);
  const ttl = options?.ttl;
  if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl >= 0)) throw new TypeError(`ttl must be a whole number of ms ≥ 0, got ${String(ttl)}`);
  const headers: Record<string, string> = { ...condition };
  if (options?.contentType !== undefined) headers['content-type'] = options.contentType;
  return { method: 'PUT', path: ttl === undefined ? kvPath(key) : `${kvPath(key)}?ttl=${ttl}`, headers, body: value };
}

function jsonPost(path: string, body: unknown): HttpRequest {
  return { method: 'POST', path, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

function entryBody(entry: BatchEntry): BatchEntry {
  return entry.ttl === undefined ? { key: entry.key, value: entry.value } : { key: entry.key, value: entry.value, ttl: entry.ttl };
}

/** Throws the reply's error unless it has `status`. */
function expectStatus(reply: HttpReply, status: number, node: string): void {
  if (reply.status !== status) throw serverError(reply, node);
}

/** A 404 that means "no such key" (not "no such route": a wrong URL must not read as a miss). */
function isNotFound(reply: HttpReply, node: string): boolean {
  const error = serverError(reply, node);
  if (error instanceof SlabcacheServerError && error.code === 'not_found') return true;
  throw error;
}

function versionOf(reply: HttpReply, node: string): number {
  const etag = header(reply, 'etag');
  const version = etag === undefined ? NaN : Number(/^"(\d+)"$/.exec(etag)?.[1]);
  if (!Number.isSafeInteger(version) || version <= 0) throw new SlabcacheProtocolError(`${node} answered without a version ETag (got ${String(etag)})`, node);
  return version;
}

function parseJson(reply: HttpReply, node: string): unknown {
  try {
    return JSON.parse(reply.body.toString('utf8'));
  } catch {
    throw new SlabcacheProtocolError(`${node} answered with a body that is not JSON`, node);
  }
}

function countOf(reply: HttpReply, node: string, field: 'stored' | 'deleted'): number {
  const count = (parseJson(reply, node) as Record<string, unknown>)[field];
  if (typeof count !== 'number') throw new SlabcacheProtocolError(`${node} answered without "${field}"`, node);
  return count;
}
