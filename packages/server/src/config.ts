/**
 * Server configuration: one table of settings, read from environment variables
 * and command-line flags, validated once at startup.
 *
 * Every setting is a row in `SETTINGS` (env name, flag, default, parser, help
 * text); `--help`, the README table and validation all come from that table, so
 * adding a setting (THREADS, SNAPSHOT_PATH, …) is adding one row. Flags win over
 * environment variables, which win over defaults. A bad value throws
 * `ConfigError` naming the setting, where it came from and what is allowed: the
 * CLI prints it and exits with status 2 instead of starting half-configured.
 */

import { availableParallelism } from 'node:os';

import type { PolicyName } from '@slabcache/engine';

import { parseTokens } from './auth/tokens.js';
import { MAX_TTL_MS } from './ttl.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  /** TCP port; 0 asks the OS for a free one (tests). */
  readonly port: number;
  readonly host: string;
  /** Engine: most entries held (maxKeys). */
  readonly maxKeys: number;
  /** Engine: slab memory for keys, values and headers (maxBytes). */
  readonly maxBytes: number;
  /** Engine: most key + value bytes the entries hold together (maxSize); 0 = no such bound. */
  readonly maxSize: number;
  /** Longest key in UTF-8 bytes. */
  readonly maxKeyBytes: number;
  /** Longest value in bytes (UTF-8 for JSON string values, raw for /kv bodies). */
  readonly maxValueBytes: number;
  /** Engine: which entry leaves when the cache is full (see README "Eviction policy"). */
  readonly policy: PolicyName;
  /** TTL in ms of entries written without one (the engine's `ttl` option); 0 = they never expire. */
  readonly defaultTtl: number;
  /** Most keys in one /mget, /mset or /mdel. */
  readonly maxBatchKeys: number;
  /** Largest request body of a batch, and largest /mget reply. */
  readonly maxBatchBytes: number;
  readonly logLevel: LogLevel;
  /** Log every request (method, path, status, duration). Off by default: it costs throughput. */
  readonly logRequests: boolean;
  /** How long stop() waits for in-flight requests before closing every socket anyway. */
  readonly shutdownTimeoutMs: number;
  /** Requests per second allowed per client IP (token bucket, rateLimit.ts); 0 = no rate limiting. */
  readonly rateLimit: number;
  /** Bucket size: requests a client may send at once; 0 = the same as rateLimit. */
  readonly rateBurst: number;
  /** Rate-limit by the last X-Forwarded-For entry instead of the socket's address (only behind a proxy you run). */
  readonly trustProxy: boolean;
  /**
   * HTTP servers run in worker threads on the same port, all over one shared
   * cache (threads/pool.ts). 1 = a single server in the calling thread, no worker.
   */
  readonly threads: number;
  /** Snapshot file: loaded at startup if present, saved on graceful shutdown; '' = no snapshots. */
  readonly snapshotPath: string;
  /** Also save the snapshot every this many seconds; 0 = only on shutdown. */
  readonly snapshotIntervalSeconds: number;
  /**
   * Read-write bearer tokens, separated by commas or whitespace; '' = none
   * (auth/access.ts, docs/security.md). Secret: never logged or echoed.
   */
  readonly authToken: string;
  /** A file of read-write tokens, one or more per line, `#` lines ignored; '' = none. */
  readonly authTokenFile: string;
  /** Read-only bearer tokens (GET, HEAD and /mget), as authToken. Secret. */
  readonly authReadToken: string;
  /** A file of read-only tokens, as authTokenFile. */
  readonly authReadTokenFile: string;
  /** With tokens set, /metrics needs one too; false leaves it open (a scraper without a token). */
  readonly authMetrics: boolean;
  /** Failed authentications allowed per client address per minute, as a burst; over it, 429 (0 = no limit). */
  readonly authFailureLimit: number;
  /** Without tokens, on a non-loopback HOST, answer only loopback clients (Redis's protected mode). */
  readonly protectedMode: boolean;
  /** TLS certificate chain (PEM file); with tlsKey the server speaks HTTPS only (tls.ts). */
  readonly tlsCert: string;
  /** TLS private key (PEM file). */
  readonly tlsKey: string;
  /** Passphrase of an encrypted tlsKey. Secret. */
  readonly tlsKeyPassphrase: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface Setting<K extends keyof ServerConfig> {
  readonly key: K;
  readonly env: string;
  readonly flag: string;
  readonly defaultValue: ServerConfig[K];
  readonly help: string;
  /** A secret (a token, a passphrase): an error about it never shows its value. */
  readonly secret?: true;
  /** Turns the raw text into a value; throws ConfigError with a message naming what is allowed. */
  readonly parse: (raw: string) => ServerConfig[K];
}

function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const text = raw.trim().replace(/_/g, '');
    const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

function boolean(raw: string): boolean {
  const text = raw.trim().toLowerCase();
  if (text === 'true' || text === '1' || text === 'yes' || text === '') return true;
  if (text === 'false' || text === '0' || text === 'no') return false;
  throw new ConfigError('must be true or false');
}

const POLICIES: readonly PolicyName[] = ['sieve', 'lru'];

function policy(raw: string): PolicyName {
  const value = raw.trim();
  if (!(POLICIES as readonly string[]).includes(value)) throw new ConfigError(`must be one of ${POLICIES.join(', ')}`);
  return value as PolicyName;
}

function logLevel(raw: string): LogLevel {
  const text = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(text)) throw new ConfigError(`must be one of ${LOG_LEVELS.join(', ')}`);
  return text as LogLevel;
}

/** Bearer tokens (auth/tokens.ts): checked here, so a malformed one stops the server at startup. */
function tokens(setting: string): (raw: string) => string {
  return (raw) => {
    try {
      return parseTokens(raw, setting).join(',');
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  };
}

/** A file path, or '' for none. */
function filePath(raw: string): string {
  return raw.trim();
}

function host(raw: string): string {
  const text = raw.trim();
  if (text === '' || /\s/.test(text)) throw new ConfigError('must be a host name or IP address');
  return text;
}

/** Engine bounds mirrored here so that a bad value fails with the setting's own name. */
const MAX_SLAB_BYTES = 4 * 1024 ** 3 - 64 * 1024;

/** Each thread costs its own V8 isolate (~25 MB of RSS); more threads than this is a mistake, not a plan. */
const MAX_THREADS = 256;

type AnySetting = { [K in keyof ServerConfig]: Setting<K> }[keyof ServerConfig];

export const SETTINGS: readonly AnySetting[] = [
  { key: 'port', env: 'PORT', flag: '--port', defaultValue: 7171, parse: integer(0, 65535), help: 'TCP port to listen on (0 = any free port)' },
  { key: 'host', env: 'HOST', flag: '--host', defaultValue: '0.0.0.0', parse: host, help: 'address to bind' },
  { key: 'maxKeys', env: 'MAX_KEYS', flag: '--max-keys', defaultValue: 5_000_000, parse: integer(1, 2 ** 28 - 1), help: 'most entries the cache holds; the least recently used is evicted past it' },
  { key: 'maxBytes', env: 'MAX_BYTES', flag: '--max-bytes', defaultValue: 1_610_612_736, parse: integer(1, MAX_SLAB_BYTES), help: 'slab memory for keys, values and entry headers, reserved at startup (1.5 GiB)' },
  { key: 'maxSize', env: 'MAX_SIZE', flag: '--max-size', defaultValue: 0, parse: integer(0, MAX_SLAB_BYTES), help: 'most key + value bytes the entries hold together, as lru-cache\'s maxSize (0 = no bound; at most MAX_BYTES)' },
  { key: 'maxKeyBytes', env: 'MAX_KEY_BYTES', flag: '--max-key-bytes', defaultValue: 1024, parse: integer(1, 65_000), help: 'longest key, in UTF-8 bytes' },
  { key: 'maxValueBytes', env: 'MAX_VALUE_BYTES', flag: '--max-value-bytes', defaultValue: 1_048_576, parse: integer(0, 512 * 1024 ** 2), help: 'longest value, in bytes (1 MiB)' },
  { key: 'policy', env: 'POLICY', flag: '--policy', defaultValue: 'sieve', parse: policy, help: 'eviction policy: sieve (a hit sets a bit; reads run in parallel across THREADS) or lru (exact LRU, every operation under one lock)' },
  { key: 'defaultTtl', env: 'DEFAULT_TTL', flag: '--default-ttl', defaultValue: 0, parse: integer(0, MAX_TTL_MS), help: 'TTL in ms of entries written without a ttl (0 = they never expire)' },
  { key: 'maxBatchKeys', env: 'MAX_BATCH_KEYS', flag: '--max-batch-keys', defaultValue: 1000, parse: integer(1, 100_000), help: 'most keys in one /mget, /mset or /mdel' },
  { key: 'maxBatchBytes', env: 'MAX_BATCH_BYTES', flag: '--max-batch-bytes', defaultValue: 16 * 1024 * 1024, parse: integer(1024, 1024 ** 3), help: 'largest request body of a batch, and largest /mget reply, in bytes (16 MiB)' },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', defaultValue: 'info', parse: logLevel, help: `pino log level: ${LOG_LEVELS.join(', ')}` },
  { key: 'logRequests', env: 'LOG_REQUESTS', flag: '--log-requests', defaultValue: false, parse: boolean, help: 'log every request at info level (slows the server down)' },
  { key: 'shutdownTimeoutMs', env: 'SHUTDOWN_TIMEOUT_MS', flag: '--shutdown-timeout-ms', defaultValue: 5000, parse: integer(0, 600_000), help: 'on SIGTERM/SIGINT, how long to let in-flight requests finish before closing every socket' },
  { key: 'rateLimit', env: 'RATE_LIMIT', flag: '--rate-limit', defaultValue: 0, parse: integer(0, 10_000_000), help: 'requests per second allowed per client IP, answered 429 beyond it (0 = off)' },
  { key: 'rateBurst', env: 'RATE_BURST', flag: '--rate-burst', defaultValue: 0, parse: integer(0, 10_000_000), help: 'requests a client may send at once before RATE_LIMIT applies (0 = RATE_LIMIT)' },
  { key: 'trustProxy', env: 'TRUST_PROXY', flag: '--trust-proxy', defaultValue: false, parse: boolean, help: 'rate-limit by the last X-Forwarded-For address (set only behind your own proxy)' },
  { key: 'snapshotPath', env: 'SNAPSHOT_PATH', flag: '--snapshot', defaultValue: '', parse: (raw) => raw.trim(), help: 'snapshot file: loaded at startup if present, saved on graceful shutdown (see docs/snapshots.md; empty = off)' },
  { key: 'snapshotIntervalSeconds', env: 'SNAPSHOT_INTERVAL', flag: '--snapshot-interval', defaultValue: 0, parse: integer(0, 604_800), help: 'also save the snapshot every N seconds (0 = only on shutdown)' },
  { key: 'authToken', env: 'AUTH_TOKEN', flag: '--auth-token', defaultValue: '', parse: tokens('AUTH_TOKEN'), secret: true, help: 'read-write bearer tokens, comma-separated: every route but /health and /dashboard then needs "Authorization: Bearer <token>" (docs/security.md; a flag is visible in ps: prefer the variable or a file)' },
  { key: 'authTokenFile', env: 'AUTH_TOKEN_FILE', flag: '--auth-token-file', defaultValue: '', parse: filePath, help: 'file of read-write bearer tokens, one or more per line, # comments' },
  { key: 'authReadToken', env: 'AUTH_READ_TOKEN', flag: '--auth-read-token', defaultValue: '', parse: tokens('AUTH_READ_TOKEN'), secret: true, help: 'read-only bearer tokens, comma-separated: GET, HEAD, /mget, /stats, /metrics' },
  { key: 'authReadTokenFile', env: 'AUTH_READ_TOKEN_FILE', flag: '--auth-read-token-file', defaultValue: '', parse: filePath, help: 'file of read-only bearer tokens, as AUTH_TOKEN_FILE' },
  { key: 'authMetrics', env: 'AUTH_METRICS', flag: '--auth-metrics', defaultValue: true, parse: boolean, help: '/metrics needs a token like the data routes (false: open to any scraper, and to non-loopback clients in protected mode)' },
  { key: 'authFailureLimit', env: 'AUTH_FAILURE_LIMIT', flag: '--auth-failure-limit', defaultValue: 30, parse: integer(0, 1_000_000), help: 'failed authentications allowed per client address per minute; past it every request from there gets 429 (0 = no limit)' },
  { key: 'protectedMode', env: 'PROTECTED_MODE', flag: '--protected-mode', defaultValue: true, parse: boolean, help: 'with no token and a HOST other than loopback, answer only clients on this machine (403 for others); no = answer everyone' },
  { key: 'tlsCert', env: 'TLS_CERT', flag: '--tls-cert', defaultValue: '', parse: filePath, help: 'TLS certificate chain (PEM): with TLS_KEY the port speaks HTTPS only (docs/security.md#tls)' },
  { key: 'tlsKey', env: 'TLS_KEY', flag: '--tls-key', defaultValue: '', parse: filePath, help: 'TLS private key (PEM)' },
  { key: 'tlsKeyPassphrase', env: 'TLS_KEY_PASSPHRASE', flag: '--tls-key-passphrase', defaultValue: '', parse: (raw) => raw, secret: true, help: 'passphrase of an encrypted TLS_KEY' },
  { key: 'threads', env: 'THREADS', flag: '--threads', defaultValue: availableParallelism(), parse: integer(1, MAX_THREADS), help: 'HTTP server threads on the one port, sharing one cache (default: the number of cores; 1 = no worker threads)' },
];

export const DEFAULT_CONFIG: ServerConfig = Object.freeze(
  Object.fromEntries(SETTINGS.map((s) => [s.key, s.defaultValue])) as unknown as ServerConfig,
);

/** What the command line asked for besides settings. */
export interface CommandLine {
  readonly help: boolean;
  readonly config: ServerConfig;
}

/**
 * Reads settings from `env` and `argv` (flags only, without node and the
 * script: `--port 8080`, `--port=8080`, a bare `--log-requests` means true).
 * Throws ConfigError on an unknown flag or a bad value.
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): CommandLine {
  const byFlag = new Map(SETTINGS.map((s) => [s.flag, s] as const));
  const fromFlags = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const setting = byFlag.get(flag);
    if (!setting) throw new ConfigError(`unknown argument ${JSON.stringify(arg)} (try --help)`);
    if (eq !== -1) {
      fromFlags.set(setting.env, arg.slice(eq + 1));
    } else if (typeof setting.defaultValue === 'boolean' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) {
      fromFlags.set(setting.env, 'true');
    } else {
      const value = argv[++i];
      if (value === undefined) throw new ConfigError(`${flag} needs a value`);
      fromFlags.set(setting.env, value);
    }
  }
  return { help, config: resolveConfig(fromFlags, env) };
}

/** Builds a validated config from flag values (keyed by env name) over `env` over defaults. */
export function resolveConfig(fromFlags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): ServerConfig {
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const flagValue = fromFlags.get(setting.env);
    const raw = flagValue ?? env[setting.env];
    if (raw === undefined) {
      out[setting.key] = setting.defaultValue;
      continue;
    }
    const source = flagValue !== undefined ? setting.flag : setting.env;
    try {
      out[setting.key] = setting.parse(raw);
    } catch (error) {
      const why = error instanceof ConfigError ? error.message : String(error);
      throw new ConfigError(`invalid ${shown(source, raw, setting)}: ${why}`);
    }
  }
  return Object.freeze(checkCombination(out as unknown as ServerConfig));
}

/** `NAME="value"` for an error message, or `NAME (value not shown)` for a secret. */
function shown(name: string, value: unknown, setting: AnySetting): string {
  return setting.secret ? `${name} (value not shown)` : `${name}=${JSON.stringify(value)}`;
}

/**
 * Settings that are valid alone but not together: refused rather than ignored,
 * so that an operator who asked for a protection does not run without it.
 */
function checkCombination(config: ServerConfig): ServerConfig {
  if (config.rateBurst > 0 && config.rateLimit === 0) {
    throw new ConfigError('RATE_BURST is set but RATE_LIMIT is 0 (off): set RATE_LIMIT to enable rate limiting');
  }
  if ((config.tlsCert === '') !== (config.tlsKey === '')) {
    throw new ConfigError(`${config.tlsCert === '' ? 'TLS_KEY' : 'TLS_CERT'} is set without ${config.tlsCert === '' ? 'TLS_CERT' : 'TLS_KEY'}: HTTPS needs both`);
  }
  if (config.tlsKeyPassphrase !== '' && config.tlsKey === '') {
    throw new ConfigError('TLS_KEY_PASSPHRASE is set without TLS_KEY: it would be ignored');
  }
  return config;
}

/** Fills in defaults for an embedding caller and validates the result like the CLI would. */
export function configFrom(partial: Partial<ServerConfig> = {}): ServerConfig {
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = partial[setting.key];
    if (value === undefined) {
      out[setting.key] = setting.defaultValue;
      continue;
    }
    try {
      out[setting.key] = setting.parse(String(value));
    } catch (error) {
      const why = error instanceof ConfigError ? error.message : String(error);
      throw new ConfigError(`invalid option ${shown(setting.key, value, setting)}: ${why}`);
    }
  }
  return Object.freeze(checkCombination(out as unknown as ServerConfig));
}

/** The `--help` text: usage and every setting with its flag, variable and default. */
export function helpText(): string {
  const rows = SETTINGS.map((s) => `  ${s.flag} <value>  (env ${s.env}, default ${JSON.stringify(s.defaultValue)})\n      ${s.help}`);
  return [
    'Usage: slabcache-server [flags]',
    '',
    'Runs the slabcache HTTP server. Each setting can be given as a flag',
    '(--port 8080 or --port=8080) or as an environment variable; flags win.',
    'Sizes are in bytes.',
    '',
    ...rows,
    '  -h, --help',
    '      print this help and exit',
    '',
  ].join('\n');
}
