/**
 * The startup check that the native uWebSockets.js addon is what serves HTTP.
 *
 * The npm build we use (@trufflesuite/uws-js-unofficial, see
 * ../shared/notes/uws.md) silently falls back to a slow pure-JS server when
 * its binary does not load (wrong Node ABI, glibc) or when UWS_USE_FALLBACK is
 * set. We refuse that: a native addon sits in the CommonJS module cache under a
 * `.node` filename, so the module hyper-express uses must be one of those.
 */

import { Module } from 'node:module';

import { compressors as uwsExports } from 'hyper-express';

/** Returns the addon's path; throws if hyper-express is running on the JS fallback. */
export function assertNativeUws(): string {
  if (process.env['UWS_USE_FALLBACK']) {
    throw new Error('UWS_USE_FALLBACK is set: refusing to run on the slow uWebSockets.js JS fallback');
  }
  const cache = (Module as unknown as { _cache: Record<string, NodeJS.Module | undefined> })._cache;
  const addon = Object.values(cache).find((m) => m !== undefined && m.filename.endsWith('.node') && m.exports === uwsExports);
  if (!addon) {
    throw new Error(
      `uWebSockets.js native addon did not load (Node ABI ${process.versions.modules}, ${process.platform}-${process.arch}); ` +
        'refusing to run on the slow JS fallback. Use Node 20 on glibc Linux (see packages/server/README.md).',
    );
  }
  return addon.filename;
}
