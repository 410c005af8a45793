#!/usr/bin/env node
/**
 * Writes {"type":"commonjs"} as the package.json of each directory given: the
 * CommonJS build of a "type": "module" package lives in dist/cjs, and this file
 * is what makes Node (and TypeScript) read the .js and .d.ts files there as
 * CommonJS. tsc cannot emit it; run after the CommonJS tsc pass.
 *
 *   node scripts/mark-commonjs.mjs packages/engine/dist/cjs
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  process.stderr.write('usage: mark-commonjs.mjs DIR...\n');
  process.exit(2);
}
for (const dir of dirs) {
  if (!existsSync(path.join(dir, 'index.js'))) {
    process.stderr.write(`mark-commonjs: ${dir}/index.js does not exist: run the CommonJS tsc pass first\n`);
    process.exit(1);
  }
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
}
