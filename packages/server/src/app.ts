/**
 * Builds the hyper-express application: registers the routes of routes.ts,
 * answers 405 (with Allow) for a known path with another method (including
 * unknown and lowercase method tokens, which uWS 20.57 routes to JS; 20.30
 * closes those connections in C++, see docs/runtimes.md), 404 for unknown
 * paths, and turns every thrown error into the JSON error shape.
 *
 * All replies leave through `send`, which also counts them in the metrics and,
 * when LOG_REQUESTS is on, logs them. Handlers run synchronously when they can
 * (reads), so hyper-express does not defer their response through cork.
 *
 * With RATE_LIMIT set, every request first takes a token from its client's
 * bucket (rateLimit.ts); a request without one is answered 429 with
 * Retry-After before its handler runs (a body it carries is drained, not read).
 *
 * Then access (auth/): every route, the 405 and 404 answers included, gets
 * the guard its method and pattern call for (auth/routeAccess.ts: open, read
 * or write), so a route added to routes.ts needs a token from the moment it
 * exists. A refused request is answered 401/403/429 before its handler runs.
 * Open routes, and every route when there are no tokens and no protected
 * mode, have no guard and cost nothing.
 *
 * Replies go out with backpressure (backpressure.ts): a client that does not
 * read cannot make the server buffer them.
 *
 * hyper-express's own body limit is set out of reach (`max_body_length`): the
 * limits are enforced in body.ts, where a 413 gets our error shape and a
 * chunked upload over the limit does not leave a promise pending forever.
 */

import { Server, type Request, type Response } from 'hyper-express';

import type { AccessSettings } from './auth/access.js';
import { AccessGate, type Guard } from './auth/gate.js';
import { PeerWatch } from './auth/peerWatch.js';
import { routeAccess } from './auth/routeAccess.js';
import { sendWithBackpressure } from './backpressure.js';
import type { ServerConfig } from './config.js';
import { toHttpError } from './errors.js';
import type { Logger } from './logger.js';
import type { RouteLabel, ServerMetrics } from './metrics.js';
import { clientAddress, RateLimiter } from './rateLimit.js';
import { errorReply, replyFor, type Reply } from './reply.js';
import { labelOf, type Handler, type RouteSpec } from './routes.js';
import type { TlsAppOptions } from './tls.js';

/** The label of requests no route matched (404). */
export const UNMATCHED: RouteLabel = { route: 'unmatched', method: 'ANY' };

/** Every label the metrics will see, in a fixed order: the routes, one 405 label per path, UNMATCHED. */
export function routeLabels(specs: readonly RouteSpec[]): RouteLabel[] {
  const labels = specs.map(labelOf);
  for (const pattern of distinctPatterns(specs)) labels.push({ route: pattern, method: 'OTHER' });
  labels.push(UNMATCHED);
  return labels;
}

export interface AppParts {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly routes: readonly RouteSpec[];
  /** Tokens and protected mode (auth/access.ts). */
  readonly access: AccessSettings;
  /** Certificate and key for HTTPS ({} = plain HTTP; tls.ts). */
  readonly tls: TlsAppOptions;
}

export function buildApp({ config, logger, metrics, routes, access, tls }: AppParts): Server {
  const app = newServer(tls);
  const peers = watchPeers(app);
  const gate = new AccessGate(access, config.host, (reason) => metrics.countAuthFailure(reason), peers === undefined ? {} : { peers });
  const guardOf = (method: RouteSpec['method'] | undefined, pattern: string): Guard | undefined =>
    gate.guardFor(routeAccess(method, pattern, { metricsNeedToken: access.metricsNeedToken }));
  const labels = routeLabels(routes);
  const indexOf = new Map(labels.map((label, index) => [`${label.method} ${label.route}`, index]));
  const unmatchedIndex = labels.length - 1;
  const logRequests = config.logRequests;
  const limiter =
    config.rateLimit > 0 ? new RateLimiter({ ratePerSecond: config.rateLimit, burst: config.rateBurst || config.rateLimit }) : undefined;
  const trustProxy = config.trustProxy;

  const send = (index: number, req: Request, res: Response, started: number, reply: Reply): void => {
    if (res.completed) return; // the client went away; uWS has already dropped the response
    if (reply.status !== 200) res.status(reply.status);
    if (reply.contentType !== undefined) res.header('content-type', reply.contentType);
    if (reply.headers !== undefined) for (const name in reply.headers) res.header(name, reply.headers[name] as string);
    if (reply.body !== undefined && req.method !== 'HEAD') {
      // Not res.send: a client that does not read must not make uWS buffer its replies (backpressure.ts).
      sendWithBackpressure(res, reply.body);
    } else {
      // uWS 20.30 leaves a HEAD reply (endWithoutBody with a length) unfinished, which breaks the
      // next request on the connection; closing the connection after HEAD keeps clients safe.
      res.send(reply.body, req.method === 'HEAD');
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.observe(index, reply.status, seconds);
    if (logRequests) {
      logger.info({ method: req.method, url: req.url, status: reply.status, ms: Math.round(seconds * 1e6) / 1000 }, 'request');
    }
  };

  const fail = (index: number, req: Request, res: Response, started: number, error: unknown): void => {
    const { httpError, internal } = toHttpError(error);
    if (internal) logger.error({ err: error, method: req.method, url: req.url }, 'request failed');
    send(index, req, res, started, replyFor(httpError));
  };

  const dispatch =
    (index: number, handler: Handler, guard: Guard | undefined) =>
    (req: Request, res: Response): void => {
      const started = performance.now();
      if (limiter !== undefined) {
        const forwardedFor = trustProxy ? req.headers['x-forwarded-for'] : undefined;
        const decision = limiter.take(clientAddress(req.ip, forwardedFor, trustProxy));
        if (!decision.allowed) {
          const wait = String(decision.retryAfterSeconds);
          send(index, req, res, started, errorReply(429, 'rate_limited', `too many requests; retry in ${wait} s`, { 'retry-after': wait }));
          return;
        }
      }
      if (guard !== undefined) {
        const refused = guard(req, res);
        if (refused !== undefined) {
          send(index, req, res, started, refused);
          return;
        }
      }
      let result: Reply | Promise<Reply>;
      try {
        result = handler(req);
      } catch (error) {
        fail(index, req, res, started, error);
        return;
      }
      if (result instanceof Promise) {
        result.then(
          (reply) => send(index, req, res, started, reply),
          (error: unknown) => fail(index, req, res, started, error),
        );
      } else {
        send(index, req, res, started, result);
      }
    };

  routes.forEach((spec, index) => {
    app[spec.method](spec.pattern, dispatch(index, spec.handler, guardOf(spec.method, spec.pattern)));
  });

  // uWS prefers a method-specific route over `any` on the same pattern, so these only see other methods.
  for (const pattern of distinctPatterns(routes)) {
    const allowed = routes.filter((spec) => spec.pattern === pattern).map((spec) => spec.method.toUpperCase());
    const allow = allowed.join(', ');
    const index = indexOf.get(`OTHER ${pattern}`) as number;
    app.any(
      pattern,
      dispatch(index, (req) => {
        // uWS routes by the method exactly as sent and hyper-express reports it upper-cased, so an
        // allowed method reaching this route was sent in another case (`get`; uWS 20.57 only).
        const method = req.method;
        const message = allowed.includes(method)
          ? `methods are case-sensitive: send ${method} in upper case (${pattern} allows ${allow})`
          : `${method} is not allowed on ${pattern}; use ${allow}`;
        return errorReply(405, 'method_not_allowed', message, { allow });
      }, guardOf(undefined, pattern)),
    );
  }

  app.set_not_found_handler(
    dispatch(unmatchedIndex, (req) => errorReply(404, 'route_not_found', `no route for ${req.method} ${req.path}`), guardOf(undefined, UNMATCHED.route)),
  );
  app.set_error_handler((req, res, error) => {
    const pattern = (req as unknown as { route?: { pattern?: string } }).route?.pattern ?? '';
    const index = indexOf.get(`${req.method} ${pattern}`) ?? unmatchedIndex;
    fail(index, req, res, performance.now(), error);
  });
  return app;
}

/**
 * Protected mode reads each client's address once, when it connects (auth/peerWatch.ts), where uWS
 * reports connections to JS: `filter()` exists in uWS 20.57, not in 20.30 (there every request's
 * peer is read, as before).
 */
function watchPeers(app: Server): PeerWatch | undefined {
  const uws = app.uws_instance as Partial<Pick<Server['uws_instance'], 'filter'>>;
  if (typeof uws.filter !== 'function') return undefined;
  const peers = new PeerWatch();
  uws.filter.call(app.uws_instance, (res, count) => peers.onSocket(res, Number(count)));
  return peers;
}

/**
 * The hyper-express server: uWS's SSLApp with TLS options, else its App. A
 * failure is reported without the options: hyper-express's own message lists
 * them all, the key's passphrase included.
 */
function newServer(tls: TlsAppOptions): Server {
  try {
    return new Server({
      ...tls,
      // Signals are handled by cli.ts (graceful stop, then exit); hyper-express's own
      // handler would only close the listen socket and leave the process running.
      auto_close: false,
      max_body_length: Number.MAX_SAFE_INTEGER,
    });
  } catch {
    throw new Error(
      tls.cert_file_name === undefined
        ? 'uWebSockets.js could not create its app'
        : `uWebSockets.js refused the TLS certificate ${tls.cert_file_name} or key ${tls.key_file_name ?? ''} (is the key in a format BoringSSL reads?)`,
    );
  }
}

function distinctPatterns(specs: readonly RouteSpec[]): string[] {
  return [...new Set(specs.map((spec) => spec.pattern))];
}
