/**
 * A raw HTTP/1.1 client over node:net, for requests no well-behaved client
 * would send: malformed framing, invalid bytes, bodies split at odd places,
 * lies in Content-Length. It writes exactly the bytes it is given and reads one
 * response (skipping 1xx interim replies) or notes that the server closed the
 * connection without one.
 *
 * It parses only what the server sends (a status line, headers, a
 * Content-Length body); anything else is reported as-is for the failure message.
 */

import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What came back: a response, or the connection closed (or reset) with none. */
export type RawOutcome = { readonly kind: 'response'; readonly response: RawResponse } | { readonly kind: 'closed'; readonly received: string };

export interface RawRequestOptions {
  /** Send the bytes in these pieces, yielding to the event loop between them. */
  readonly pieces?: number;
  /** Give up after this long (a hang detector; the server's own idle timeout is about 10 s). */
  readonly giveUpMs?: number;
  /** The request is a HEAD: the reply's Content-Length describes a body that is not sent. */
  readonly head?: boolean;
}

/** Builds request bytes: request line, headers as given (no defaults added), body. */
export function rawRequest(method: string, target: string, headers: ReadonlyArray<readonly [string, string]>, body?: Buffer): Buffer {
  const head = `${method} ${target} HTTP/1.1\r\n` + headers.map(([name, value]) => `${name}: ${value}\r\n`).join('') + '\r\n';
  return body === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** `body` as a chunked transfer: chunks of `chunkSize`, then the terminating zero chunk. */
export function chunked(body: Buffer, chunkSize: number): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < body.byteLength; offset += chunkSize) {
    const piece = body.subarray(offset, offset + chunkSize);
    parts.push(Buffer.from(`${piece.byteLength.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/** Sends `bytes` on a fresh connection to 127.0.0.1:`port` and reads one response. */
export function sendRaw(port: number, bytes: Buffer, options: RawRequestOptions = {}): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: RawOutcome | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const giveUp = setTimeout(
      () => finish(new Error(`no response and no close within ${options.giveUpMs ?? 30_000} ms; got ${JSON.stringify(received.toString('latin1').slice(0, 200))}`)),
      options.giveUpMs ?? 30_000,
    );
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const response = parseResponse(received, options.head === true);
      if (response !== undefined) finish({ kind: 'response', response });
    });
    // A reset while we are still writing a body the server refused is a close, not a client error.
    socket.on('error', () => finish({ kind: 'closed', received: received.toString('latin1') }));
    socket.on('close', () => finish({ kind: 'closed', received: received.toString('latin1') }));
    socket.on('connect', () => {
      void writePieces(socket, bytes, options.pieces ?? 1);
    });
  });
}

async function writePieces(socket: net.Socket, bytes: Buffer, pieces: number): Promise<void> {
  const size = Math.max(1, Math.ceil(bytes.byteLength / pieces));
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    if (socket.destroyed) return;
    const flushed = socket.write(bytes.subarray(offset, offset + size));
    if (!flushed) await new Promise<void>((resolve) => socket.once('drain', resolve).once('close', resolve));
    else if (pieces > 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** One complete response at the start of `bytes` (1xx interim replies skipped), or undefined if incomplete. */
export function parseResponse(bytes: Buffer, noBody = false): RawResponse | undefined {
  let start = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd === -1) return undefined;
    const lines = bytes.toString('latin1', start, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
    if (status >= 100 && status < 200) {
      start = headEnd + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = noBody ? 0 : Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    if (bytes.byteLength < bodyStart + length) return undefined;
    return { status, headers, body: bytes.subarray(bodyStart, bodyStart + length) };
  }
}
