/**
 * Structured JSON logs (pino) for startup, shutdown and errors. Per-request
 * lines are written only when LOG_REQUESTS is on: at tens of thousands of
 * requests per second a log line each would cost more than the request.
 */

import { pino, type Logger } from 'pino';

import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'slabcache', level, base: { pid: process.pid } });
}
