#!/usr/bin/env node
/**
 * The command-line entry: `node dist/cli.js [--flag value ...]`.
 *
 * Exit status: 0 after --help or a graceful stop (SIGTERM/SIGINT); 2 for a bad
 * setting (message on stderr); 1 when the server cannot start (the native uWS
 * addon missing, the port unusable). A second signal during the graceful stop
 * exits at once with 1.
 */

import { ConfigError, helpText, parseCommandLine, type CommandLine } from './config.js';
import { createLogger } from './logger.js';
import { createServer, type SlabcacheServer } from './server.js';

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
  const logger = createLogger(config.logLevel);
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

function exitOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`slabcache-server: ${error.message}\n`);
  process.exit(2);
}

main().catch((error: unknown) => {
  process.stderr.write(`slabcache-server: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
