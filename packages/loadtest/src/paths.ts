/**
 * Where this package and the repository live on disk.
 *
 * Found from the working directory (walking up), not from `import.meta`, because
 * jest loads these modules as CommonJS where `import.meta` does not exist. Every
 * entry point is run either from the package directory (pnpm scripts) or from
 * somewhere inside the repository, so the walk always ends. LOADTEST_DIR
 * overrides it.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const PACKAGE_NAME = '@slabcache/loadtest';

function isLoadtestPackage(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

export function loadtestDir(): string {
  const override = process.env.LOADTEST_DIR;
  if (override) return resolve(override);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (isLoadtestPackage(dir)) return dir;
    const nested = join(dir, 'packages', 'loadtest');
    if (isLoadtestPackage(nested)) return nested;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`cannot find ${PACKAGE_NAME} above ${process.cwd()}; run from inside the repository or set LOADTEST_DIR`);
}

export function repoDir(): string {
  return resolve(loadtestDir(), '..', '..');
}

export const paths = {
  baselineServer: () => join(loadtestDir(), 'baseline', 'server.mjs'),
  ourServerCli: () => join(repoDir(), 'packages', 'server', 'dist', 'cli.js'),
  wrkScript: (mode: string) => join(loadtestDir(), 'wrk', `${mode}.lua`),
  gcProbe: () => join(loadtestDir(), 'src', 'gc-probe.mjs'),
  locustfile: () => join(loadtestDir(), 'locustfile.py'),
  reportsDir: () => join(loadtestDir(), 'reports'),
};
