/**
 * Which uWebSockets.js build serves HTTP, and the startup check that it is
 * the native addon hyper-express runs on.
 *
 * hyper-express requires `uWebSockets.js`; a pnpm override points that name at
 * the workspace package @slabcache/uws, which loads the first native build
 * that works on this machine (20.57 where glibc >= 2.38, else 20.30 on
 * Node <= 20; see packages/uws/loader.js) and never a pure-JS fallback.
 */

import { uwsLoadResult, type UwsBuild } from '@slabcache/uws/build';
import { compressors as uwsExports } from 'hyper-express';

export type { UwsBuild };

/**
 * The build this thread runs on. Throws if none loaded (hyper-express could not
 * have been imported then) or if hyper-express somehow got another uWS module.
 */
export function loadedUwsBuild(): UwsBuild {
  const result = uwsLoadResult();
  if (!result.loaded) throw new Error(result.message);
  if (result.uws !== uwsExports) {
    throw new Error('hyper-express is not running on the uWebSockets.js that @slabcache/uws loaded: check the pnpm override of uWebSockets.js');
  }
  return result.build;
}

/** How the `listening` log line and /stats name the build: `20.57 (@btc-vision/uwebsockets.js 20.57.0)`. */
export function describeUwsBuild(build: UwsBuild): string {
  return `${build.build} (${build.packageName} ${build.packageVersion})`;
}
