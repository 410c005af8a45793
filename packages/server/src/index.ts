/**
 * @slabcache/server: the HTTP front of the slabcache engine (hyper-express on
 * uWebSockets.js). Embed it with `createServer(options)`; run it with the CLI
 * (`node dist/cli.js --help`). See README.md for the API.
 */

export { createServer, type CreateServerOptions, type SlabcacheServer } from './server.js';
export { ConfigError, DEFAULT_CONFIG, helpText, parseCommandLine, SETTINGS, type ServerConfig, type LogLevel } from './config.js';
export { putBodyLimit } from './routes.js';
