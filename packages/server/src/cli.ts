#!/usr/bin/env node
/**
 * The command-line entry: `node dist/cli.js [--flag value ...]`.
 *
 * Exit status: 0 after --help or a graceful stop (SIGTERM/SIGINT); 2 for a bad
 * setting (message on stderr); 1 when the server cannot start: no uWS build
 * loads on this machine (message on stderr, naming Node, glibc and what to
 * install), or the port is taken or unusable. A second signal during the
 * graceful stop exits at once with 1.
 *
 * The server module is imported only after the uWS check: importing it loads
 * hyper-express, which cannot load without uWS.
 */

import { uwsLoadResult } from '@slabcache/uws/build';

import { ConfigError, helpText, parseCommandLine, type CommandLine } from './config.js';
import { assertPortFree } from './exclusivePort.js';
import { createLogger } from './logger.js';
import type { SlabcacheServer } from './server.js';

async function main(): Promise<void> {
  let commandLine: CommandLine;
  try {
    commandLine = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    return exitOnConfigError(error);
  }
  const { help, config } = commandLine;
  if (help) {
    process.stdout.write(helpText());
    return;
  }
  const uws = uwsLoadResult();
  if (!uws.loaded) {
    process.stderr.write(`slabcache-server: cannot start: ${uws.message}\n`);
    process.exit(1);
  }
  const { createServer } = await loadServerModule();
  const logger = createLogger(config.logLevel);
  try {
    // Early, before the cache is reserved and a snapshot loaded; start() checks again as it binds.
    await assertPortFree(config.host, config.port);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start');
    process.exit(1);
  }
  let server: SlabcacheServer;
  const onThreadFailure = (error: Error): void => {
    // A server thread died (THREADS > 1): stop the others gracefully rather than serve on with fewer.
    logger.fatal({ err: error }, 'server thread failed: stopping');
    server.stop().then(
      () => process.exit(1),
      () => process.exit(1),
    );
  };
  try {
    server = createServer({ ...config, logger, onThreadFailure });
  } catch (error) {
    if (error instanceof ConfigError) return exitOnConfigError(error);
    logger.fatal({ err: error }, 'cannot start');
    process.exit(1);
  }

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      server.logger.warn({ signal }, 'second signal during shutdown: exiting now');
      // Server threads must close their sockets before the process may exit (uws.md); that takes milliseconds.
      server.stopNow().then(
        () => process.exit(1),
        () => process.exit(1),
      );
      return;
    }
    signalled = true;
    server.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await server.start();
  } catch (error) {
    server.logger.fatal({ err: error }, 'cannot start');
    process.exit(1);
  }
}

/**
 * The server module, imported only now. From dist/ this is ESM and `import()`;
 * from source (tests run this file through tsx's CommonJS hook, like
 * threads/workerScript.ts) `require` resolves the TypeScript, and keeps one
 * instance of each module (ConfigError is checked with instanceof).
 */
async function loadServerModule(): Promise<typeof import('./server.js')> {
  return typeof require === 'function' ? (require('./server.js') as typeof import('./server.js')) : import('./server.js');
}

function exitOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`slabcache-server: ${error.message}\n`);
  process.exit(2);
}

main().catch((error: unknown) => {
  process.stderr.write(`slabcache-server: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
