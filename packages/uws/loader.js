'use strict';
/**
 * Picks the uWebSockets.js native build that loads on this machine, once per
 * thread (each worker thread loads the addon itself).
 *
 * No single npm build of uWS runs everywhere we support (README, "Supported
 * runtimes"):
 *
 *   build   package                                  Node ABIs               needs
 *   20.57   @btc-vision/uwebsockets.js 20.57.0       115 127 137 141         glibc >= 2.38
 *   20.30   @trufflesuite/uws-js-unofficial 20.30.0  93 108 115 (Node <=20)  glibc >= 2.27
 *
 * so both are installed and the first that loads wins, newest first: 20.57
 * answers more requests correctly (unknown methods, HTTP/1.0, broken framing:
 * see docs/runtimes.md), 20.30 keeps Node 20 working on Debian 12.
 *
 * The binaries are loaded directly, never through the packages' own entry
 * files: the trufflesuite one swallows a failed load and returns a slow
 * pure-JS imitation of uWS, which we refuse to serve with. A binary that is
 * missing (no build for this ABI) or fails to load (glibc too old, musl) is
 * recorded with the reason, and the next build is tried. When none loads,
 * `loadResult` says why for each and what to install.
 *
 * UWS_BUILD=20.57 or UWS_BUILD=20.30 restricts the choice to that build
 * (to compare them, or to reproduce a report); any other value is refused.
 */

const fs = require('node:fs');
const path = require('node:path');

/** Where a build's binaries are, relative to its package's directory. */
const BUILDS = [
  {
    build: '20.57',
    packageName: '@btc-vision/uwebsockets.js',
    packageVersion: '20.57.0',
    // The package's `exports` hides package.json; its main file sits beside the binaries.
    directory: () => path.dirname(require.resolve('@btc-vision/uwebsockets.js')),
    binaryDir: '.',
    abis: ['115', '127', '137', '141'],
    needs: 'glibc >= 2.38',
  },
  {
    build: '20.30',
    packageName: '@trufflesuite/uws-js-unofficial',
    packageVersion: '20.30.0-unofficial.0',
    directory: () => path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json')),
    binaryDir: 'binaries',
    abis: ['93', '108', '115'],
    needs: 'Node 16, 18 or 20 (ABI 93, 108, 115), glibc >= 2.27',
  },
];

/** The glibc version this process runs on, or undefined on musl and non-Linux systems. */
function glibcVersion() {
  const header = /** @type {{ glibcVersionRuntime?: string }} */ (process.report.getReport().header);
  return header.glibcVersionRuntime;
}

function describeRuntime() {
  const glibc = glibcVersion();
  return (
    `Node ${process.version} (ABI ${process.versions.modules}), ${process.platform}-${process.arch}, ` +
    (glibc ? `glibc ${glibc}` : 'no glibc (musl or not Linux)')
  );
}

function chosenBuilds() {
  const wanted = process.env.UWS_BUILD;
  if (wanted === undefined || wanted === '') return { builds: BUILDS };
  const builds = BUILDS.filter((candidate) => candidate.build === wanted);
  if (builds.length === 0) {
    return { error: `UWS_BUILD=${wanted} is not a uWebSockets.js build this package has; use one of ${BUILDS.map((b) => b.build).join(', ')}, or leave it unset` };
  }
  return { builds };
}

/** Tries one build: the loaded module and its file, or the reason it does not load. */
function tryBuild(candidate) {
  let directory;
  try {
    directory = candidate.directory();
  } catch (error) {
    return { reason: `package ${candidate.packageName} is not installed (${firstLine(error)})` };
  }
  const file = path.join(directory, candidate.binaryDir, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  if (!fs.existsSync(file)) {
    return { reason: `no binary for ${process.platform}-${process.arch} ABI ${process.versions.modules} (it has ABI ${candidate.abis.join(', ')}; needs ${candidate.needs})` };
  }
  try {
    return { file, uws: require(file) };
  } catch (error) {
    return { reason: `${firstLine(error)} (needs ${candidate.needs})` };
  }
}

function firstLine(error) {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}

const INSTALL_HINT =
  'Run Node 22 or 24 on glibc >= 2.38 (Debian 13, Ubuntu 24.04 or newer), or Node 20 on glibc >= 2.27 (Debian 12), ' +
  'on Linux x64 or arm64; Alpine (musl) is not supported. See "Supported runtimes" in the README.';

function load() {
  if (process.env.UWS_USE_FALLBACK) {
    return {
      loaded: false,
      message: `UWS_USE_FALLBACK is set: slabcache never runs on the slow uWebSockets.js JS fallback; unset it`,
    };
  }
  const { builds, error } = chosenBuilds();
  if (error) return { loaded: false, message: error };
  const reasons = [];
  for (const candidate of builds) {
    const attempt = tryBuild(candidate);
    if (attempt.uws) {
      return {
        loaded: true,
        uws: attempt.uws,
        build: {
          build: candidate.build,
          packageName: candidate.packageName,
          packageVersion: candidate.packageVersion,
          file: attempt.file,
          glibc: glibcVersion() ?? null,
        },
      };
    }
    reasons.push(`  uWS ${candidate.build} (${candidate.packageName} ${candidate.packageVersion}): ${attempt.reason}`);
  }
  return {
    loaded: false,
    message: `no uWebSockets.js build loads on ${describeRuntime()}:\n${reasons.join('\n')}\n${INSTALL_HINT}`,
  };
}

/** The outcome for this thread, computed on first use. */
let result;
function loadResult() {
  result ??= load();
  return result;
}

module.exports = { loadResult, BUILDS };
