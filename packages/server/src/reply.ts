/**
 * What a route handler returns: status, body and headers, sent by one function
 * in app.ts (which also counts it in the metrics). Handlers never write to the
 * response themselves, so every answer, error or not, takes the same path.
 *
 * Replies on hot paths (a 404 miss) are returned rather than thrown:
 * building an Error captures a stack trace, which costs more than the lookup.
 */

import { errorBody, type ErrorCode, type HttpError } from './errors.js';

export const JSON_TYPE = 'application/json; charset=utf-8';

export interface Reply {
  readonly status: number;
  /** Sent as-is (uWS sets Content-Length); HEAD replies carry it too and hyper-express drops it. */
  readonly body?: string | Buffer;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function jsonReply(status: number, body: string): Reply {
  return { status, body, contentType: JSON_TYPE };
}

export function errorReply(status: number, code: ErrorCode, message: string, headers?: Readonly<Record<string, string>>): Reply {
  const body = errorBody(code, message);
  return headers === undefined ? { status, body, contentType: JSON_TYPE } : { status, body, contentType: JSON_TYPE, headers };
}

export function replyFor(error: HttpError): Reply {
  return errorReply(error.status, error.code, error.message, error.headers);
}
