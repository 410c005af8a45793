/**
 * Issue 17, "done when": a fresh script in the workspace imports
 * `@slabcache/client` and round-trips set, get and getMany against a running
 * server. The scripts are written now, into a new folder at the workspace
 * root, and run by plain `node` (no jest, no TypeScript loader), so they reach
 * the package through its `exports`: the ESM build for `import`, the CJS build
 * for `require`. Their TypeScript twins type-check under strict `tsc` with
 * NodeNext resolution, which picks the matching `.d.ts` for each.
 *
 * The package is built first if its dist is missing or older than its
 * sources (CI builds before testing, so there it is already current).
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { createServer, type SlabcacheServer } from '@slabcache/server';

const run = promisify(execFile);
const PACKAGE = path.resolve(__dirname, '..');
const ROOT = path.resolve(PACKAGE, '../..');

jest.setTimeout(120_000);

function newestMtime(dir: string): number {
  return Math.max(...readdirSync(dir).map((name) => statSync(path.join(dir, name)).mtimeMs));
}

let server: SlabcacheServer;
let url: string;
let scratch: string;
beforeAll(async () => {
  const built = ['dist/esm/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json'].map((f) => path.join(PACKAGE, f));
  if (!built.every(existsSync) || newestMtime(path.join(PACKAGE, 'src')) > statSync(built[0]!).mtimeMs) {
    await run('pnpm', ['--filter', '@slabcache/client', 'run', 'build'], { cwd: ROOT });
  }
  server = createServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', maxKeys: 1000, maxBytes: 16 * 1024 * 1024 });
  url = `http://127.0.0.1:${await server.start()}`;
  scratch = mkdtempSync(path.join(ROOT, '.fresh-client-'));
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await server.stop();
});

const ROUND_TRIP = `
  const client = new SlabcacheClient({ url: process.argv[2] });
  await client.set('fresh:a', 'alpha');
  await client.set('fresh:b', 'beta', { ttl: 60_000 });
  const a = await client.get('fresh:a');
  const many = await client.getMany(['fresh:a', 'fresh:b', 'fresh:none']);
  console.log(JSON.stringify({ a, many }));
  await client.close();
`;

it('an ESM script: import { SlabcacheClient } from "@slabcache/client"', async () => {
  const file = path.join(scratch, 'round-trip.mjs');
  writeFileSync(file, `import { SlabcacheClient } from '@slabcache/client';\n${ROUND_TRIP}`);
  const { stdout } = await run(process.execPath, [file, url], { cwd: scratch });
  expect(JSON.parse(stdout)).toEqual({ a: 'alpha', many: ['alpha', 'beta', null] });
  expect(server.cache.get('fresh:a')).toBe('alpha');
  expect(server.cache.getRemainingTTL('fresh:b')).toBeLessThanOrEqual(60_000);
});

it('a CommonJS script: require("@slabcache/client")', async () => {
  server.cache.clear();
  const file = path.join(scratch, 'round-trip.cjs');
  writeFileSync(file, `const { SlabcacheClient } = require('@slabcache/client');\n(async () => {${ROUND_TRIP}})();`);
  const { stdout } = await run(process.execPath, [file, url], { cwd: scratch });
  expect(JSON.parse(stdout)).toEqual({ a: 'alpha', many: ['alpha', 'beta', null] });
  expect(server.cache.get('fresh:b')).toBe('beta');
});

it('TypeScript scripts of both kinds type-check strictly against the published types', async () => {
  const body = `
    const client = new SlabcacheClient({ url: 'http://127.0.0.1:7171', timeout: 1000 });
    const value: string | undefined = await client.get('k');
    const values: (string | undefined)[] = await client.getMany(['a']);
    const version: number = await client.cas('k', 'v', 0, { ttl: 5 });
    try { await client.set('k', 'v'); } catch (error) { if (error instanceof SlabcacheServerError && error.code === 'value_too_large') console.log(error.status); }
    console.log(value, values, version);
  `;
  writeFileSync(path.join(scratch, 'check.mts'), `import { SlabcacheClient, SlabcacheServerError } from '@slabcache/client';\n${body}`);
  writeFileSync(
    path.join(scratch, 'check.cts'),
    `import { SlabcacheClient, SlabcacheServerError } from '@slabcache/client';\nasync function main(): Promise<void> {${body}}\nvoid main();`,
  );
  writeFileSync(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], skipLibCheck: false }, files: ['check.mts', 'check.cts'] }),
  );
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  await expect(run(process.execPath, [tsc, '-p', scratch], { cwd: scratch })).resolves.toBeDefined();
});
