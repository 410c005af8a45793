/**
 * The workspace as the CI scripts see it: the repository root and the
 * packages under packages/ with their manifests.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest directory above the working directory with pnpm-workspace.yaml. */
export const repoRoot = findRoot(process.cwd());

function findRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`not inside the slabcache repository: ${from}`);
  }
}

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  type?: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  files?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Directory name under packages/ (`engine`). */
  readonly dir: string;
  readonly path: string;
  readonly manifest: Manifest;
}

export function workspacePackages(): WorkspacePackage[] {
  const root = path.join(repoRoot, 'packages');
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(root, entry.name, 'package.json')))
    .map((entry) => ({
      dir: entry.name,
      path: path.join(root, entry.name),
      manifest: JSON.parse(readFileSync(path.join(root, entry.name, 'package.json'), 'utf8')) as Manifest,
    }))
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The packages that would be published: every package whose manifest is not private. */
export function publishablePackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => p.manifest.private !== true);
}
