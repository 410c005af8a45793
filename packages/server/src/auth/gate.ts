/**
 * The per-request check in front of every handler that is not open
 * (routeAccess.ts). app.ts asks `guardFor(access)` once per route when it
 * builds the app; undefined means the route costs nothing extra.
 *
 * With tokens (AUTH_TOKEN / AUTH_READ_TOKEN):
 *
 *   client locked out (AUTH_FAILURE_LIMIT)    429 rate_limited + Retry-After, token not looked at
 *   no "Authorization: Bearer <token>"        401 unauthorized  + WWW-Authenticate: Bearer realm="slabcache"
 *   a token that is not one of ours           401 invalid_token + WWW-Authenticate: ... error="invalid_token"
 *   a read-only token on a write route        403 insufficient_scope + WWW-Authenticate: ... error="insufficient_scope"
 *   otherwise                                 the handler runs
 *
 * Each 401 takes one token from the client address's failure bucket (a
 * RateLimiter: AUTH_FAILURE_LIMIT per minute, as a burst). Once the bucket is
 * empty every request from that address that needs a token is refused with
 * 429 before its token is compared, right or wrong: otherwise the answer would
 * still tell a guesser when a guess was right. Honest clients behind the same
 * address wait with them (docs/security.md says so).
 *
 * Without tokens, in protected mode (access.ts): a client whose address is
 * not loopback gets 403 protected_mode, naming the settings that change it.
 * With TRUST_PROXY the forwarded address must be loopback too: a proxy on
 * this machine does not make its clients local.
 *
 * Every refusal is counted by reason (AuthFailureReason) in the metrics.
 * Nothing here logs, and no reply repeats what the client sent.
 */

import type { Request, Response } from 'hyper-express';

import { clientAddress, RateLimiter } from '../rateLimit.js';
import { errorReply, type Reply } from '../reply.js';
import type { AccessSettings } from './access.js';
import { isLoopbackAddress, isLoopbackPeer } from './loopback.js';
import type { PeerWatch } from './peerWatch.js';
import type { RouteAccess } from './routeAccess.js';
import { TokenSet } from './tokens.js';

/** Why a request was refused, as the metrics label it (`slabcache_auth_failures_total{reason}`). */
export const AUTH_FAILURE_REASONS = ['missing_token', 'invalid_token', 'read_only_token', 'locked_out', 'protected_mode'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** A check that answers a refused request (the reply) or lets it through (undefined). */
export type Guard = (req: Request, res: Response) => Reply | undefined;

const REALM = 'Bearer realm="slabcache"';

const MISSING_TOKEN = errorReply(401, 'unauthorized', 'this server needs a bearer token: send the header "Authorization: Bearer <token>" (AUTH_TOKEN)', {
  'www-authenticate': REALM,
});
const INVALID_TOKEN = errorReply(401, 'invalid_token', 'the bearer token is not one this server accepts', {
  'www-authenticate': `${REALM}, error="invalid_token"`,
});
const READ_ONLY_TOKEN = errorReply(403, 'insufficient_scope', 'this token may only read (AUTH_READ_TOKEN): writes need a read-write token (AUTH_TOKEN)', {
  'www-authenticate': `${REALM}, error="insufficient_scope"`,
});

export class AccessGate {
  readonly #tokens: TokenSet;
  readonly #settings: AccessSettings;
  readonly #failures: RateLimiter | undefined;
  /** Clients whose failure bucket was emptied: only they are checked before their token is. */
  readonly #lockedOut = new Set<string>();
  readonly #count: (reason: AuthFailureReason) => void;
  readonly #protectedMode: Reply;
  /** Connected peers (peerWatch.ts), when the app feeds it; protected mode then checks a request's peer only if needed. */
  readonly #peers: PeerWatch | undefined;

  /**
   * `options.peers`: a PeerWatch that the app's socket filter feeds (`app.uws_instance.filter(peers.onSocket)`).
   * Pass one only when the filter is installed: a watch that never hears of a socket reports only loopback peers.
   */
  constructor(settings: AccessSettings, host: string, count: (reason: AuthFailureReason) => void, options: { now?: () => number; peers?: PeerWatch } = {}) {
    const now = options.now;
    this.#peers = settings.trustProxy ? undefined : options.peers;
    this.#settings = settings;
    this.#tokens = new TokenSet(settings.tokens);
    this.#count = count;
    const limit = settings.failureLimitPerMinute;
    this.#failures = limit > 0 ? new RateLimiter({ ratePerSecond: limit / 60, burst: limit, ...(now ? { now } : {}) }) : undefined;
    this.#protectedMode = errorReply(
      403,
      'protected_mode',
      `protected mode: this server has no AUTH_TOKEN and listens on ${host}, so it answers only clients on its own machine. ` +
        'Set AUTH_TOKEN and send "Authorization: Bearer <token>", or bind HOST=127.0.0.1, or set PROTECTED_MODE=no on a trusted network (docs/security.md)',
    );
  }

  /** Whether any route needs a check: tokens are set, or protected mode is on. */
  get active(): boolean {
    return this.#tokens.size > 0 || this.#settings.protectedMode;
  }

  /** The check for routes that need `access`; undefined when they need none. */
  guardFor(access: RouteAccess): Guard | undefined {
    if (access === 'open') return undefined;
    if (this.#tokens.size > 0) return (req) => this.#checkToken(req, access);
    if (this.#settings.protectedMode) return (req, res) => this.#checkLoopback(req, res);
    return undefined;
  }

  #checkToken(req: Request, access: RouteAccess): Reply | undefined {
    const failures = this.#failures;
    // The client's address costs a call into uWS and a string: read it only while someone is locked out.
    let client: string | undefined;
    if (failures !== undefined && this.#lockedOut.size > 0) {
      client = this.#clientOf(req);
      if (this.#lockedOut.has(client)) {
        const decision = failures.check(client);
        if (!decision.allowed) {
          this.#count('locked_out');
          const wait = String(decision.retryAfterSeconds);
          return errorReply(429, 'rate_limited', `too many failed authentications from this address; retry in ${wait} s`, { 'retry-after': wait });
        }
        this.#lockedOut.delete(client);
      }
    }
    const presented = bearerToken(req.headers['authorization']);
    const granted = presented === undefined ? undefined : this.#tokens.match(presented);
    if (granted === undefined) {
      if (failures !== undefined) this.#failed(failures, client ?? this.#clientOf(req));
      this.#count(presented === undefined ? 'missing_token' : 'invalid_token');
      return presented === undefined ? MISSING_TOKEN : INVALID_TOKEN;
    }
    if (access === 'write' && granted === 'read-only') {
      this.#count('read_only_token');
      return READ_ONLY_TOKEN;
    }
    return undefined;
  }

  /** Charges a failed authentication to `client`; an emptied bucket locks it out. */
  #failed(failures: RateLimiter, client: string): void {
    failures.take(client);
    if (failures.check(client).allowed) return;
    // Bounded like the limiter's table: past it the oldest lock is forgiven (the limiter errs the same way).
    if (this.#lockedOut.size >= failures.maxClients) this.#lockedOut.delete(this.#lockedOut.values().next().value as string);
    this.#lockedOut.add(client);
  }

  #checkLoopback(req: Request, res: Response): Reply | undefined {
    // Behind a trusted proxy (no watch then) each request's X-Forwarded-For must be read.
    if (this.#peers !== undefined && this.#peers.onlyLoopback) return undefined;
    let local = isLoopbackPeer(res.raw.getRemoteAddress());
    if (local && this.#settings.trustProxy) local = isLoopbackAddress(this.#clientOf(req));
    if (local) return undefined;
    this.#count('protected_mode');
    return this.#protectedMode;
  }

  #clientOf(req: Request): string {
    const trustProxy = this.#settings.trustProxy;
    return clientAddress(req.ip, trustProxy ? req.headers['x-forwarded-for'] : undefined, trustProxy);
  }
}

/**
 * The token of an `Authorization: Bearer <token>` header (the scheme is
 * case-insensitive, RFC 7235, and may be followed by several spaces), or
 * undefined for no header or another scheme. The common exact form
 * `Bearer <token>` is taken without the regular expression (a quarter of the
 * check's cost).
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (header.startsWith('Bearer ')) {
    const token = header.slice(7);
    // Anything else (extra spaces, a token with a space) takes the general path below.
    if (token !== '' && token.trim() === token && !token.includes(' ')) return token;
  }
  const match = /^\s*bearer +(\S+)\s*$/i.exec(header);
  return match?.[1];
}
