/**
 * A small real HTTP client for the tests (node:http, or node:https for an
 * https:// base), returning status, headers and the body as bytes. Pass an
 * `agent` to reuse one keep-alive connection across requests; `socketOf`
 * tells which socket carried a reply.
 */

import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** The body parsed as JSON (undefined if it is not JSON). */
  readonly json: unknown;
  readonly socket: Socket;
}

export interface RequestOptions {
  readonly body?: string | Buffer | undefined;
  readonly headers?: Record<string, string>;
  readonly agent?: http.Agent;
  /** Send the body with Transfer-Encoding: chunked, in pieces of this many bytes. */
  readonly chunkSize?: number;
  /** https: the certificate(s) to trust (the server's own, when self-signed). */
  readonly ca?: string | Buffer;
}

export function request(base: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (body !== undefined && options.chunkSize === undefined) headers['content-length'] = String(body.byteLength);
    if (options.chunkSize !== undefined) headers['transfer-encoding'] = 'chunked';
    const client = url.protocol === 'https:' ? https : http;
    const tls = options.ca === undefined ? {} : { ca: options.ca };
    const req = client.request(
      { host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers, agent: options.agent ?? false, ...tls },
      (res) => {
        const socket = res.socket; // read now: a keep-alive agent takes it back after 'end'
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, text, json, socket });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined && options.chunkSize !== undefined) {
      for (let offset = 0; offset < body.byteLength; offset += options.chunkSize) {
        req.write(body.subarray(offset, offset + options.chunkSize));
      }
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** The `{"error": {...}}` body of a reply, checked for shape. */
export function errorOf(result: HttpResult): { code: string; message: string } {
  const error = (result.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    throw new Error(`not an error reply: ${result.status} ${result.text.slice(0, 200)}`);
  }
  return { code: error.code, message: error.message };
}
