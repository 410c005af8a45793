/**
 * GET /dashboard: the live page (page.ts), served from Buffers built at
 * startup (plain and gzipped), so serving it costs what any static reply
 * costs and nothing is built per request. The page carries no data and needs no token: its script reads
 * /stats with the token (see docs/dashboard.md).
 *
 * Its Content-Security-Policy allows the page's own inline script and style
 * (by hash) and fetches to its own origin, and nothing else: the browser
 * itself refuses any other request, and the page cannot be framed.
 */

import { gzipSync } from 'node:zlib';

import type { Reply } from '../reply.js';
import type { RouteSpec } from '../routes.js';

import { cspHash, DASHBOARD_HTML, DASHBOARD_SCRIPT, DASHBOARD_STYLE } from './page.js';

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${cspHash(DASHBOARD_SCRIPT)}`,
  `style-src ${cspHash(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The page changes only with the server's version: let the browser revalidate it.
  'cache-control': 'no-cache',
  vary: 'accept-encoding',
};
const HTML = Buffer.from(DASHBOARD_HTML, 'utf8');
const PAGE: Reply = { status: 200, body: HTML, contentType: 'text/html; charset=utf-8', headers: HEADERS };
/** Compressed once at startup (about a third of the size); browsers always accept gzip. */
const GZIPPED_PAGE: Reply = { ...PAGE, body: gzipSync(HTML, { level: 9 }), headers: { ...HEADERS, 'content-encoding': 'gzip' } };

/** Accept-Encoding lists gzip (without q=0). */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    return coding?.trim() === 'gzip' && !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
  });
}

export const dashboardRoute: RouteSpec = {
  method: 'get',
  pattern: '/dashboard',
  handler: (req) => (acceptsGzip(req.headers['accept-encoding']) ? GZIPPED_PAGE : PAGE),
};
