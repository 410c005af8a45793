/**
 * Who may use the server, resolved once at startup from the settings:
 * the tokens (AUTH_TOKEN and AUTH_READ_TOKEN, from the environment, flags or
 * files), whether /metrics needs one, and whether protected mode is on.
 *
 * Resolved in the main thread and handed to every server thread as plain data
 * (it is part of ServerThreadData), so that all threads accept exactly the
 * same tokens even if a token file changes while they start.
 *
 * Protected mode (docs/security.md#protected-mode), after Redis's: a server
 * with no token that listens on an address other machines can reach answers
 * only clients on this machine (loopback). It is on when there is no token,
 * HOST is not a loopback address, and PROTECTED_MODE is not `no`.
 */

import { readFileSync } from 'node:fs';

import { ConfigError, type ServerConfig } from '../config.js';
import { isLoopbackHost } from './loopback.js';
import { parseTokens, type TokenAccess } from './tokens.js';

export interface AccessSettings {
  /** Every accepted token with what it may do; empty = no authentication. */
  readonly tokens: ReadonlyArray<{ readonly token: string; readonly access: TokenAccess }>;
  /** /metrics needs a token like the data routes (AUTH_METRICS). */
  readonly metricsNeedToken: boolean;
  /** No token, a non-loopback HOST and PROTECTED_MODE on: only loopback clients are answered. */
  readonly protectedMode: boolean;
  /** Failed authentications allowed per client address per minute (AUTH_FAILURE_LIMIT); 0 = no limit. */
  readonly failureLimitPerMinute: number;
  /** Client addresses come from X-Forwarded-For too (TRUST_PROXY). */
  readonly trustProxy: boolean;
}

/** Reads the token files and decides protected mode. Throws ConfigError (never naming a token). */
export function resolveAccess(config: ServerConfig): AccessSettings {
  const readWrite = [...parseSetting(config.authToken, 'AUTH_TOKEN'), ...readTokenFile(config.authTokenFile, 'AUTH_TOKEN_FILE')];
  const readOnly = [...parseSetting(config.authReadToken, 'AUTH_READ_TOKEN'), ...readTokenFile(config.authReadTokenFile, 'AUTH_READ_TOKEN_FILE')];
  if (readWrite.some((token) => readOnly.includes(token))) {
    throw new ConfigError('a token is given both as read-write (AUTH_TOKEN) and as read-only (AUTH_READ_TOKEN): give each token one role');
  }
  const tokens = [
    ...unique(readWrite).map((token) => ({ token, access: 'read-write' as const })),
    ...unique(readOnly).map((token) => ({ token, access: 'read-only' as const })),
  ];
  if (tokens.length > 0 && !config.protectedMode) {
    throw new ConfigError('PROTECTED_MODE=no has no effect when tokens are set (every client then needs one): remove PROTECTED_MODE or the tokens');
  }
  return {
    tokens,
    metricsNeedToken: config.authMetrics,
    protectedMode: tokens.length === 0 && config.protectedMode && !isLoopbackHost(config.host),
    failureLimitPerMinute: config.authFailureLimit,
    trustProxy: config.trustProxy,
  };
}

/** The tokens of a setting's value; the value was checked when the settings were read. */
function parseSetting(value: string, setting: string): string[] {
  return parseTokens(value, setting);
}

/** The tokens of a file, one or more per line, `#` lines ignored; '' = no file. */
function readTokenFile(file: string, setting: string): string[] {
  if (file === '') return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`${setting}=${JSON.stringify(file)} cannot be read (${why})`);
  }
  let tokens: string[];
  try {
    tokens = parseTokens(text, `${setting} ${JSON.stringify(file)}`, { comments: true });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (tokens.length === 0) throw new ConfigError(`${setting}=${JSON.stringify(file)} holds no token`);
  return tokens;
}

function unique(tokens: readonly string[]): string[] {
  return [...new Set(tokens)];
}
