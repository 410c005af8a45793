/**
 * How to start a server thread, from dist/ (production) or from the
 * TypeScript sources (jest, and the CLI tests that run src/cli.ts through tsx).
 *
 * From source, the worker is a small CommonJS boot script (eval) that does in
 * the new thread what test/support/cli-boot.cjs does for the CLI: registers
 * tsx's require hook, maps `@slabcache/engine` to the engine's source (the
 * same code, hence the same shared-memory layout, as the main thread), then
 * requires worker.ts. Each worker loads the uWS addon itself (uws.md).
 *
 * Running from source is recognised by this module's own file name: under
 * CommonJS `__filename` exists, and it ends in `.ts` only from source. In the
 * ESM build `__filename` is undefined and dist/threads/worker.js is used.
 */

import path from 'node:path';

export interface WorkerScript {
  /** A file path or URL, or with `evalCode` the CommonJS source to run. */
  readonly filename: string | URL;
  readonly evalCode: boolean;
}

export async function serverThreadScript(): Promise<WorkerScript> {
  if (typeof __filename === 'string' && __filename.endsWith('.ts')) {
    const entry = path.join(__dirname, 'worker.ts');
    const engineSource = path.join(__dirname, '../../../engine/src/index.ts');
    const boot = `
      const Module = require('node:module');
      const requireHere = Module.createRequire(${JSON.stringify(entry)});
      requireHere('tsx/cjs/api').register();
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        return resolve.call(this, request === '@slabcache/engine' ? ${JSON.stringify(engineSource)} : request, ...rest);
      };
      requireHere(${JSON.stringify(entry)});
    `;
    return { filename: boot, evalCode: true };
  }
  const { distWorkerFile } = await import('./distLocation.js');
  return { filename: distWorkerFile, evalCode: false };
}
