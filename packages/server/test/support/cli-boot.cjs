/**
 * Runs the server's real CLI (src/cli.ts) from source in a child process, the
 * way jest runs it in-process: tsx compiles TypeScript on require, and
 * `@slabcache/engine` maps to the engine's source (as jest.preset.cjs does), so
 * the CLI tests need no build and never see a stale dist/.
 */
const path = require('node:path');
const Module = require('node:module');

require('tsx/cjs/api').register();

const engineSource = path.join(__dirname, '../../../engine/src/index.ts');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === '@slabcache/engine' ? engineSource : request, ...rest);
};

require('../../src/cli.ts');
