/**
 * Request bodies: read with a byte limit of our own, and decoded as strict
 * UTF-8 JSON.
 *
 * hyper-express's own `max_body_length` is set out of reach (see app.ts)
 * because its 413 has an empty body and, for a chunked body, leaves the
 * pending `req.json()`/`req.buffer()` promise unsettled forever (uws.md). Here:
 *   - a declared Content-Length over the limit is refused before any byte is
 *     read (413 in our error shape; hyper-express drains the rest of the body
 *     before the reply goes out, so the keep-alive connection stays usable);
 *   - a chunked body is counted as it streams and refused the moment it passes
 *     the limit; the remaining chunks are drained and dropped, never kept.
 * A body whose client went away never resolves (the request is dropped with
 * it), so a cut-off upload can never be stored.
 */

import type { Request } from 'hyper-express';

import { badRequest, HttpError } from './errors.js';

/**
 * The hyper-express 6.18 body-parser internals this module drives (the
 * version is pinned). `_body_parser_get_received_data` is what `req.buffer()`
 * uses underneath, minus a copy; for chunked bodies we install our own
 * collector the same way it installs its own, so that we can count bytes.
 */
interface RequestBodyInternals {
  /** Resolves with the whole body in one freshly allocated array (hyper-express's own buffer). */
  _body_parser_get_received_data(): Promise<Uint8Array>;
  /** 1 = "buffering": every chunk goes to `_body_parser_passthrough`. */
  _body_parser_mode: number;
  _body_parser_passthrough: (chunk: Uint8Array, isLast: boolean) => void;
  /** Replays chunks that arrived before a consumer was chosen, then resumes uWS. */
  _body_parser_flush_buffered(): void;
  /** Stops keeping chunks; uWS still drains the rest so the connection stays in sync. */
  _body_parser_stop(): void;
}

export type TooLarge = (actualBytes: number) => HttpError;

/** The whole body as a Buffer, at most `limit` bytes; throws `tooLarge(size)` beyond it. */
export function readBody(req: Request, limit: number, tooLarge: TooLarge): Promise<Buffer> {
  const headers = req.headers;
  if (headers['transfer-encoding'] === 'chunked') return readChunked(req, limit, tooLarge);
  const declaredText = headers['content-length'];
  // uWS passes a negative or non-numeric Content-Length through to the handler (and closes the
  // connection after it): refuse it here, or it would read as "no body" and store an empty value.
  if (declaredText !== undefined && !/^[0-9]+$/.test(declaredText)) {
    return Promise.reject(badRequest('bad_request', 'Content-Length must be a non-negative integer'));
  }
  const declared = Number(declaredText ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(declared));
  if (!(declared > 0)) return Promise.resolve(EMPTY);
  // The array is ours alone (allocated for this request), so wrap it instead of copying.
  return (req as unknown as RequestBodyInternals)
    ._body_parser_get_received_data()
    .then((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

const EMPTY = Buffer.alloc(0);

function readChunked(req: Request, limit: number, tooLarge: TooLarge): Promise<Buffer> {
  const internals = req as unknown as RequestBodyInternals;
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let total = 0;
    let refused = false;
    internals._body_parser_passthrough = (chunk, isLast) => {
      if (refused) return;
      total += chunk.byteLength;
      if (total > limit) {
        refused = true;
        chunks = [];
        internals._body_parser_stop();
        reject(tooLarge(total));
        return;
      }
      // Chunks of a chunked body are already copies owned by the request (hyper-express copies them).
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (isLast) resolve(Buffer.concat(chunks, total));
    };
    internals._body_parser_mode = 1;
    internals._body_parser_flush_buffered();
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body; 400 for invalid UTF-8 or malformed JSON (including an empty body). */
export function parseJson(body: Buffer): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw badRequest('invalid_utf8', 'request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('invalid_json', body.byteLength === 0 ? 'request body is empty; expected JSON' : 'request body is not valid JSON');
  }
}
