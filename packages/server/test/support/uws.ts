/**
 * The uWebSockets.js build these tests run on ('20.57' or '20.30'; see
 * packages/uws/loader.js). The two builds differ where uWS's C++ answers (or
 * drops) a request before JavaScript sees it; docs/runtimes.md lists every
 * difference, and the tests that meet one expect each build's documented answer.
 */

import { uwsLoadResult } from '@slabcache/uws/build';

function loadedBuild(): '20.57' | '20.30' {
  const result = uwsLoadResult();
  if (!result.loaded) throw new Error(result.message);
  if (result.build.build !== '20.57' && result.build.build !== '20.30') throw new Error(`unknown uWS build ${result.build.build}`);
  return result.build.build;
}

export const UWS_BUILD = loadedBuild();
/** uWS 20.57 routes unknown method tokens to JS and answers what its parser refuses (400, 431, 505). */
export const UWS_ANSWERS_PARSER_ERRORS = UWS_BUILD === '20.57';
