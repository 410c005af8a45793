/**
 * What each route needs: nothing (open), a token that may read, or a token
 * that may write. Decided once per route when the app is built, from the
 * route's method and pattern, so a route added to routes.ts is covered the
 * moment it exists, with no line here:
 *
 *   open    the patterns in OPEN_ROUTES (and /metrics with AUTH_METRICS=false),
 *           with any method (their 405s too): they carry no cache data;
 *   read    GET and HEAD, plus the POST routes in READ_ROUTES_BY_POST (they
 *           take their keys in a body but change nothing); also a 405 on a
 *           closed path and a 404 for an unknown path, so that a client
 *           without a token learns nothing about the routes;
 *   write   every other method: PUT, POST, DELETE and any method added later.
 *
 * The default errs towards needing more: a new POST route counts as a write
 * until it is listed as a read, so a read-only token never gains a write.
 */

import type { Method } from '../routes.js';

export type RouteAccess = 'open' | 'read' | 'write';

/** Paths anyone may use, token or not: no cache data comes out of them. */
export const OPEN_ROUTES: readonly string[] = [
  '/health',
  // A fixed HTML page; its script fetches /stats with the token the user gives it (docs/dashboard.md).
  '/dashboard',
];

/** The metrics route, open when AUTH_METRICS=false (for a scraper that cannot send a token). */
export const METRICS_ROUTE = '/metrics';

/** POST routes that only read: their keys travel in the body (issue 17's batch get). */
export const READ_ROUTES_BY_POST: readonly string[] = ['/mget'];

export interface RouteAccessOptions {
  /** /metrics needs a token (AUTH_METRICS, default true). */
  readonly metricsNeedToken: boolean;
}

/** What a request for `pattern` with `method` needs; `method` undefined = any method (a 405 route). */
export function routeAccess(method: Method | undefined, pattern: string, { metricsNeedToken }: RouteAccessOptions): RouteAccess {
  if (OPEN_ROUTES.includes(pattern) || (pattern === METRICS_ROUTE && !metricsNeedToken)) return 'open';
  if (method === undefined || method === 'get' || method === 'head') return 'read';
  if (method === 'post' && READ_ROUTES_BY_POST.includes(pattern)) return 'read';
  return 'write';
}
