/**
 * Sends a reply body with backpressure, so that a client that does not read
 * its replies cannot make the server buffer them.
 *
 * hyper-express's `send()` ends the response with uWS's `end()`, which keeps
 * in memory whatever the socket cannot take at once, and uWS then goes on to
 * the next pipelined request on the connection. A client that pipelines many
 * reads and never reads the replies could so make the server buffer them all
 * (measured: 2,000 pipelined 1 MiB reads took the server to 2 GB; 20,000
 * pipelined 60 KB reads to 1.3 GB). With `tryEnd()` instead, uWS writes what
 * the socket takes and leaves the reply pending; the rest goes out from
 * `onWritable` as the client reads. While a reply is pending uWS runs no
 * further pipelined request on that connection: it closes the connection when
 * it meets one. The memory a connection can hold is then one reply.
 *
 * This drives hyper-express 6.18 internals (the version is pinned; body.ts
 * does the same for request bodies): the status line and headers are written
 * by its `_initiate_response`, and the response is marked completed and its
 * pending-request count settled the way `send()` does it. A request whose body
 * is still arriving (a refused upload being drained) goes through `send()`,
 * which waits for the body before replying.
 */

import type { Response } from 'hyper-express';
import type { HttpResponse } from 'uWebSockets.js';

/** The parts of hyper-express 6.18's Response that `send()` itself uses. */
interface ResponseInternals {
  completed: boolean;
  readonly _wrapped_request: { readonly received: boolean };
  readonly _raw_response: HttpResponse;
  readonly route: { readonly app: { _resolve_pending_request(): void } };
  _initiate_response(): boolean;
  atomic(handler: () => void): unknown;
}

export function sendWithBackpressure(res: Response, body: string | Buffer): void {
  const response = res as unknown as ResponseInternals;
  if (!response._wrapped_request.received) {
    res.send(body);
    return;
  }
  // Corked: status, headers and body leave in one write (a no-op nesting inside a uWS handler).
  response.atomic(() => {
    if (response.completed) return;
    response._initiate_response();
    const raw = response._raw_response;
    const total = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    const start = raw.getWriteOffset();
    const [, done] = raw.tryEnd(body, total);
    response.completed = true;
    response.route.app._resolve_pending_request();
    if (done) return;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    // uWS calls this as the socket drains, with the body offset written so far; returning false
    // (not all taken) keeps it registered. An aborted client ends it: uWS drops the response.
    raw.onWritable((offset) => raw.tryEnd(bytes.subarray(offset - start), total)[0]);
  });
}
