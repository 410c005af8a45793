/**
 * Starts a real server (real uWS on 127.0.0.1, port 0) with small engine
 * limits so tests stay light, and stops it after the test file.
 */

import { createServer, type CreateServerOptions, type SlabcacheServer } from '../../src/index';

import { request, type HttpResult, type RequestOptions } from './http';

/** Small limits: 10,000 keys in 64 MiB, the default key and value limits. */
export const TEST_LIMITS = { maxKeys: 10_000, maxBytes: 64 * 1024 * 1024 } as const;

export interface TestServer {
  readonly server: SlabcacheServer;
  readonly base: string;
  call(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
  stop(): Promise<void>;
}

export async function startTestServer(options: CreateServerOptions = {}): Promise<TestServer> {
  const server = createServer({ ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent', ...options });
  const port = await server.start();
  const base = `http://127.0.0.1:${port}`;
  return {
    server,
    base,
    call: (method, path, requestOptions) => request(base, method, path, requestOptions),
    stop: () => server.stop(),
  };
}
