/**
 * Structured JSON logs (pino) for startup, shutdown and errors. Per-request
 * lines are written only when LOG_REQUESTS is on: at tens of thousands of
 * requests per second a log line each would cost more than the request.
 */

import { pino, type Logger } from 'pino';

import type { LogLevel } from './config.js';

export type { Logger };

/**
 * `sync` writes each line before returning. A server thread needs it: it exits
 * right after its last line, and pino's asynchronous writes still in flight
 * would be lost (its flush() does not wait for them).
 */
export function createLogger(level: LogLevel, { sync = false }: { sync?: boolean } = {}): Logger {
  const options = { name: 'slabcache', level, base: { pid: process.pid } };
  return sync ? pino(options, pino.destination({ dest: 1, sync: true })) : pino(options);
}
