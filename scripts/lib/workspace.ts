/**
 * The workspace as the CI scripts see it: the repository root and the
 * packages under packages/ with their manifests.
 */

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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
