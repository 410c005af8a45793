/**
 * @slabcache/client: a typed client for slabcache servers (see README.md).
 *
 *   const client = new SlabcacheClient({ url: 'http://127.0.0.1:7171' });
 *   await client.set('greeting', 'hello', { ttl: 60_000 });
 *   await client.get('greeting');   // 'hello'
 */

export { SlabcacheClient } from './client.js';
export {
  isServerError,
  ROUTER_ERROR_CODES,
  SERVER_ERROR_CODES,
  SlabcacheAbortError,
  SlabcacheConnectionError,
  SlabcacheError,
  SlabcacheProtocolError,
  SlabcacheServerError,
  SlabcacheTimeoutError,
  type ClientErrorCode,
  type ServerErrorCode,
} from './errors.js';
export type {
  BatchEntry,
  CallOptions,
  ClientOptions,
  EngineStats,
  Entry,
  HealthReport,
  NodeHealth,
  ServerStats,
  SetOptions,
} from './types.js';
