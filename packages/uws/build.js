'use strict';
/**
 * Which uWebSockets.js build this thread runs on, without throwing: the
 * CLI checks it before importing hyper-express (so a machine where no build
 * loads gets one clear message), and the server names the build in its
 * `listening` log line and in /stats.
 */

const { loadResult } = require('./loader.js');

module.exports = { uwsLoadResult: loadResult };
