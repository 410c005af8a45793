'use strict';
/**
 * `require('uWebSockets.js')` for hyper-express (a pnpm override points that
 * name here): the native uWS module of the build loader.js chose. Throws,
 * with the reason of each build and what to install, when none loads here.
 */

const { loadResult } = require('./loader.js');

const result = loadResult();
if (!result.loaded) {
  const error = new Error(result.message);
  error.code = 'ERR_UWS_NOT_LOADED';
  throw error;
}
module.exports = result.uws;
