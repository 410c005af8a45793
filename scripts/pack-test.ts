/**
 * The pack test: every package that would be published (each packages/* whose
 * package.json is not private) is packed as it would be published and
 * installed as a user would install it.
 *
 *   1. `pnpm pack` each package (workspace:* dependencies become versions).
 *   2. Check each tarball: a LICENSE identical to the repository's; no
 *      .tsbuildinfo; no tests, benchmarks or build configs; every source map's
 *      sources shipped (or embedded); no dependency on a private workspace
 *      package; `publint --strict`; `attw` (@arethetypeswrong/cli).
 *   3. Install all the tarballs with npm into a fresh temporary project.
 *      Workspace packages must resolve to the tarballs, never the registry;
 *      third-party dependencies come from the npm registry.
 *   4. In that project: `import` and `require` every package, and run each
 *      package's smoke programs (packages/<dir>/test/installed/): `*.mjs` and
 *      `*.cjs` with node; `*.ts`/`*.cts` compiled by one strict tsc, then run.
 *
 * Every package must load through `require` on every Node >= 20: it is dual
 * (an `import` and a `require` condition in its exports) or CommonJS, and then
 * attw runs with its strictest profile and `require` is checked with Node's
 * require(esm) turned off, so a real CommonJS build answers. An ES-module-only
 * package must be listed in ESM_ONLY with the reason; it is checked with
 * attw's esm-only profile, and `require` through require(esm) (Node 20.19+).
 *
 * Prints one `ok - ...` / `not ok - ...` line per check and ends with
 * `pack: N passed, N failed` (counted by .ci/run). Needs a build first
 * (`pnpm pack:test` builds, then runs this).
 *
 *   node --import tsx scripts/pack-test.ts [--keep]   # --keep: leave the temporary project
 */

import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { run, tail, type RunResult } from './lib/run.js';
import { publishablePackages, repoRoot, workspacePackages, type Manifest, type WorkspacePackage } from './lib/workspace.js';

/** Packages without a CommonJS build, and why. Everything else must be dual or CommonJS. */
const ESM_ONLY: Record<string, string> = {
  '@slabcache/server':
    'its server threads find their entry file through import.meta.url; CommonJS programs require() it through ' +
    "Node's require(esm) (Node 20.19+, 22.12+)",
};

/** Paths a tarball must not contain: tests, benchmarks, build and test configs, build state. */
const NOT_SHIPPED = [/(^|\/)test\//, /(^|\/)bench\//, /(^|\/)tsconfig[^/]*\.json$/, /(^|\/)jest\.config/, /\.tsbuildinfo$/];

const SMOKE_DIR = 'test/installed';
const SMOKE_TIMEOUT_MS = 90_000;

interface Packed {
  readonly pkg: WorkspacePackage;
  readonly tarball: string;
  /** The package.json inside the tarball (workspace: ranges replaced). */
  readonly manifest: Manifest;
  /** Paths inside the tarball, without the leading `package/`. */
  readonly files: Set<string>;
  /** Where the tarball was extracted (`<dir>/package/...`). */
  readonly extracted: string;
}

let passed = 0;
let failed = 0;
let phaseStart = Date.now();

/** Prints how long the phase that just ended took (CI time is watched). */
function phase(name: string): void {
  console.log(`# ${name} in ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`);
  phaseStart = Date.now();
}

function check(name: string, problem: string | undefined): boolean {
  if (problem === undefined) {
    passed++;
    console.log(`ok - ${name}`);
    return true;
  }
  failed++;
  console.log(`not ok - ${name}\n${indent(problem)}`);
  return false;
}

function checkRun(name: string, result: RunResult): boolean {
  return check(name, result.ok ? undefined : `${result.command} exited ${result.code ?? result.signal}\n${tail(result, 40)}`);
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
  const work = mkdtempSync(path.join(os.tmpdir(), 'slabcache-pack-'));
  const started = Date.now();
  try {
    const packages = publishablePackages();
    check('publishable packages found', packages.length > 0 ? undefined : 'no package under packages/ is publishable');
    console.log(`# publishable: ${packages.map((p) => p.manifest.name).join(', ')}`);

    const packed: Packed[] = [];
    for (const pkg of packages) {
      const result = await pack(pkg, work);
      if (result !== undefined) packed.push(result);
    }
    for (const p of packed) await checkTarball(p);
    phase('packed and checked');

    if (packed.length === packages.length) {
      const consumer = path.join(work, 'consumer');
      const installed = await install(consumer, packed);
      phase('installed');
      if (installed) {
        await smokes(consumer, packed);
        phase('smoke programs');
      }
    } else {
      check('install and smoke tests', 'skipped: a package did not pack');
    }
  } finally {
    if (values.keep) console.log(`# kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`pack: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

/* ---- packing and the tarball's contents ---- */

async function pack(pkg: WorkspacePackage, work: string): Promise<Packed | undefined> {
  const name = pkg.manifest.name;
  const destination = path.join(work, 'tarballs');
  mkdirSync(destination, { recursive: true });
  const before = new Set(readdirSync(destination));
  const result = await run('pnpm', ['pack', '--pack-destination', destination], { cwd: pkg.path });
  const made = readdirSync(destination).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (!checkRun(`${name}: pnpm pack`, result) || !check(`${name}: one tarball`, made.length === 1 ? undefined : `made ${made.join(', ') || 'none'}`)) {
    return undefined;
  }
  const tarball = path.join(destination, made[0]!);
  const extracted = path.join(work, 'extracted', pkg.dir);
  mkdirSync(extracted, { recursive: true });
  const untar = await run('tar', ['-xzf', tarball, '-C', extracted]);
  if (!checkRun(`${name}: tarball extracts`, untar)) return undefined;
  const files = new Set(listFiles(path.join(extracted, 'package')));
  const manifest = JSON.parse(readFileSync(path.join(extracted, 'package', 'package.json'), 'utf8')) as Manifest;
  const bytes = statSync(tarball).size;
  console.log(`# ${name}: ${made[0]} (${files.size} files, ${(bytes / 1024).toFixed(0)} KiB)`);
  return { pkg, tarball, manifest, files, extracted: path.join(extracted, 'package') };
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    return entry.isDirectory() ? listFiles(path.join(dir, entry.name), relative) : [relative];
  });
}

async function checkTarball(p: Packed): Promise<void> {
  const name = p.manifest.name;
  const license = readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8');
  check(
    `${name}: LICENSE, identical to the repository's`,
    !p.files.has('LICENSE')
      ? 'no LICENSE in the tarball'
      : readFileSync(path.join(p.extracted, 'LICENSE'), 'utf8') !== license
        ? `packages/${p.pkg.dir}/LICENSE differs from the repository's LICENSE`
        : undefined,
  );
  check(`${name}: manifest says MIT`, (p.manifest as { license?: string }).license === 'MIT' ? undefined : 'license field is not "MIT"');
  const unwanted = [...p.files].filter((f) => NOT_SHIPPED.some((pattern) => pattern.test(f)));
  check(`${name}: no .tsbuildinfo, tests, benchmarks or build configs`, unwanted.length === 0 ? undefined : unwanted.join('\n'));
  check(`${name}: every source map's sources are shipped`, sourceMapProblems(p));
  check(`${name}: no dependency on a private workspace package`, privateDependencies(p.manifest));
  check(`${name}: no workspace: ranges left`, workspaceRangesLeft(p.manifest));

  checkRun(`${name}: publint --strict`, await run(binOf('publint'), ['--strict', p.tarball], { timeoutMs: 60_000 }));
  const kind = moduleKind(p.manifest);
  if (!check(`${name}: loads through require on Node >= 20 (dual or CommonJS), or says why not`, kind === undefined ? 'ES modules only: add a CommonJS build, or list the package in ESM_ONLY with the reason' : undefined)) return;
  const profile = kind === 'esm-only' ? ['--profile', 'esm-only'] : [];
  const attw = await run(binOf('attw'), [p.tarball, '--format', 'ascii', ...profile], { timeoutMs: 120_000 });
  checkRun(`${name}: attw ${kind === 'esm-only' ? `(ES modules only: ${ESM_ONLY[name]})` : `(${kind}, strict)`}`, attw);
}

function sourceMapProblems(p: Packed): string | undefined {
  const problems: string[] = [];
  for (const file of p.files) {
    if (!file.endsWith('.map')) continue;
    const map = JSON.parse(readFileSync(path.join(p.extracted, file), 'utf8')) as { sources?: string[]; sourcesContent?: (string | null)[]; sourceRoot?: string };
    (map.sources ?? []).forEach((source, i) => {
      if (typeof map.sourcesContent?.[i] === 'string') return;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), map.sourceRoot ?? '', source));
      if (!p.files.has(target)) problems.push(`${file}: ${source} is not in the tarball`);
    });
  }
  return problems.length === 0 ? undefined : problems.slice(0, 10).join('\n') + (problems.length > 10 ? `\n... ${problems.length} in all` : '');
}

function privateDependencies(manifest: Manifest): string | undefined {
  const privateNames = new Set(workspacePackages().filter((p) => p.manifest.private === true).map((p) => p.manifest.name));
  const bad = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })
    .map(([name, spec]) => aliasTarget(name, spec))
    .filter((name) => privateNames.has(name));
  return bad.length === 0 ? undefined : `depends on ${bad.join(', ')}, which is private: users could not install it`;
}

function workspaceRangesLeft(manifest: Manifest): string | undefined {
  const left = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(([, spec]) => spec.startsWith('workspace:'));
  return left.length === 0 ? undefined : left.map(([n, s]) => `${n}: ${s}`).join('\n');
}

/** The package a dependency installs: `name`, or the target of an `npm:target@range` alias. */
function aliasTarget(name: string, spec: string): string {
  const alias = /^npm:(@?[^@]+)@/.exec(spec);
  return alias ? alias[1]! : name;
}

type ModuleKind = 'dual' | 'commonjs' | 'esm-only';

/** How a package loads: see the file comment. Undefined: ES modules only, and not listed in ESM_ONLY. */
function moduleKind(manifest: Manifest): ModuleKind | undefined {
  if (ESM_ONLY[manifest.name] !== undefined) return 'esm-only';
  const conditions = new Set<string>();
  const collect = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      conditions.add(key);
      collect(value);
    }
  };
  collect(manifest.exports);
  if (conditions.has('import') && conditions.has('require')) return 'dual';
  return manifest.type === 'module' ? undefined : 'commonjs';
}

function binOf(tool: string): string {
  return path.join(repoRoot, 'node_modules', '.bin', tool);
}

/* ---- the consumer project ---- */

/** Root devDependency versions the consumer installs too, so its TypeScript matches the workspace's. */
function rootDevVersion(name: string): string {
  const root = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
  const version = root.devDependencies?.[name];
  if (version === undefined) throw new Error(`the root package.json has no devDependency ${name}`);
  return version;
}

async function install(consumer: string, packed: Packed[]): Promise<boolean> {
  mkdirSync(consumer, { recursive: true });
  const tarballOf = new Map(packed.map((p) => [p.manifest.name, `file:${p.tarball}`]));
  const dependencies = Object.fromEntries(tarballOf);
  // Workspace packages resolve to the tarballs wherever they are asked for. An npm: alias in a
  // packed manifest (the server's uWebSockets.js) is applied as an override too: such an alias
  // exists to replace what another dependency asks for under that name (hyper-express asks for
  // uWebSockets.js from GitHub), and npm applies overrides only from the root project, which
  // is why the server's README tells users to add the same override.
  const overrides: Record<string, string> = Object.fromEntries([...tarballOf.keys()].map((name) => [name, `$${name}`]));
  for (const p of packed) {
    for (const [name, spec] of Object.entries(p.manifest.dependencies ?? {})) {
      if (!spec.startsWith('npm:')) continue;
      const target = aliasTarget(name, spec);
      overrides[name] = tarballOf.get(target) ?? spec;
    }
  }
  const manifest = {
    name: 'slabcache-pack-consumer',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies,
    devDependencies: { typescript: rootDevVersion('typescript'), '@types/node': rootDevVersion('@types/node') },
    overrides,
  };
  writeFileSync(path.join(consumer, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`# consumer overrides: ${JSON.stringify(overrides)}`);
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: consumer, env: npmEnv(), timeoutMs: 600_000 });
  if (!checkRun('npm install of the tarballs into a fresh project', installed)) return false;

  const lock = JSON.parse(readFileSync(path.join(consumer, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; name?: string }> };
  const fromRegistry = Object.entries(lock.packages)
    .filter(([where, entry]) => tarballOf.has(entry.name ?? where.replace(/^.*node_modules\//, '')) && !(entry.resolved ?? '').startsWith('file:'))
    .map(([where, entry]) => `${where} resolved from ${entry.resolved ?? '(nowhere)'}`);
  return check('workspace packages resolve to the packed tarballs only', fromRegistry.length === 0 ? undefined : fromRegistry.join('\n'));
}

/** The environment for npm: without the npm_* variables a pnpm script run would pass down. */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_') || keep.has(key)));
}

async function smokes(consumer: string, packed: Packed[]): Promise<void> {
  const env = npmEnv();
  for (const p of packed) {
    const name = p.manifest.name;
    const kind = moduleKind(p.manifest);
    const imported = await run('node', ['--input-type=module', '-e', `const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m).sort()))`], { cwd: consumer, env });
    checkRun(`${name}: import`, imported);
    // Unless ES modules only: require() without require(esm), so it is a CommonJS build that answers.
    const requireFlags = kind === 'esm-only' ? [] : ['--no-experimental-require-module'];
    const required = await run('node', [...requireFlags, '-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(name)})).filter((k) => k !== '__esModule' && k !== 'module.exports').sort()))`], { cwd: consumer, env });
    checkRun(`${name}: require${kind === 'esm-only' ? ' (require(esm))' : ' (CommonJS build)'}`, required);
    if (kind === 'dual' && imported.ok && required.ok) {
      const esm = imported.stdout.trim();
      const cjs = required.stdout.trim();
      check(`${name}: import and require give the same exports`, esm === cjs ? undefined : `import:  ${esm}\nrequire: ${cjs}`);
    }
  }

  // Copy every package's smoke programs into <consumer>/<dir>/.
  const programs: { pkg: string; file: string }[] = [];
  for (const p of packed) {
    const dir = path.join(p.pkg.path, SMOKE_DIR);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(mjs|cjs|ts|cts|mts)$/.test(f)) : [];
    if (!check(`${p.manifest.name}: has smoke programs (packages/${p.pkg.dir}/${SMOKE_DIR})`, files.length > 0 ? undefined : 'none: add at least an ESM and a CommonJS program')) continue;
    mkdirSync(path.join(consumer, p.pkg.dir));
    for (const file of files) {
      copyFileSync(path.join(dir, file), path.join(consumer, p.pkg.dir, file));
      programs.push({ pkg: p.pkg.dir, file });
    }
  }

  const typed = programs.filter((x) => /\.(ts|cts|mts)$/.test(x.file));
  let compiled = false;
  if (typed.length > 0) {
    writeFileSync(path.join(consumer, 'tsconfig.json'), `${JSON.stringify(STRICT_CONSUMER_TSCONFIG, null, 2)}\n`);
    compiled = checkRun(
      `strict tsc over the TypeScript consumers (${typed.map((x) => `${x.pkg}/${x.file}`).join(', ')})`,
      await run(path.join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: consumer, env, timeoutMs: 120_000 }),
    );
  }
  for (const { pkg, file } of programs) {
    let script = path.join(pkg, file);
    if (/\.(ts|cts|mts)$/.test(file)) {
      if (!compiled) {
        check(`${pkg}/${file}`, 'not run: the strict tsc failed');
        continue;
      }
      script = path.join('build', pkg, file.replace(/\.ts$/, '.js').replace(/\.cts$/, '.cjs').replace(/\.mts$/, '.mjs'));
    }
    const esmOnly = moduleKind(packed.find((p) => p.pkg.dir === pkg)!.manifest) === 'esm-only';
    const flags = !esmOnly && /\.c[jt]s$/.test(file) ? ['--no-experimental-require-module'] : [];
    checkRun(`${pkg}/${file}`, await run('node', [...flags, script], { cwd: consumer, env, timeoutMs: SMOKE_TIMEOUT_MS }));
  }
}

/** A user's strictest reasonable settings; skipLibCheck off, so our .d.ts files (and what they import) are checked too. */
const STRICT_CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noImplicitReturns: true,
    skipLibCheck: false,
    rootDir: '.',
    outDir: 'build',
  },
  include: ['*/*.ts', '*/*.cts', '*/*.mts'],
  exclude: ['node_modules', 'build'],
};

main().catch((error: unknown) => {
  console.error(error);
  console.log(`pack: ${passed} passed, ${failed + 1} failed`);
  process.exitCode = 1;
});
