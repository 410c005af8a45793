/**
 * Where the repository's files are: the shared HAProxy configuration under
 * deploy/, and the built server the nodes run.
 *
 * Found by walking up from the working directory, not from `import.meta`,
 * because jest loads these modules as CommonJS where `import.meta` does not
 * exist (packages/loadtest/src/paths.ts does the same). pnpm runs scripts from
 * the package or repository directory, so the walk always ends there.
 * SLABCACHE_REPO_DIR overrides it.
 */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const MARKER = join('deploy', 'haproxy', 'slabcache.cfg');

export function repoDir(): string {
  const override = process.env['SLABCACHE_REPO_DIR'];
  if (override) return resolve(override);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, MARKER))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`cannot find ${MARKER} above ${process.cwd()}: run from inside the repository or set SLABCACHE_REPO_DIR`);
}

export const paths = {
  /** The router configuration every deployment shares. */
  sharedRouterConfig: () => join(repoDir(), MARKER),
  deployDir: () => join(repoDir(), 'deploy'),
  /** The built server CLI (`pnpm run build`). */
  serverCli: () => join(repoDir(), 'packages', 'server', 'dist', 'cli.js'),
};
