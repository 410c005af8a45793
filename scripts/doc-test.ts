/**
 * The doc test: every fenced code block in the READMEs (README.md files
 * anywhere) and in docs/ is either marked as illustration or run here, as a
 * user would run it. The markers are described in scripts/lib/doc-blocks.ts.
 *
 *   ts, typescript   an ES module: all of them compiled by one strict tsc (the
 *                    type errors a user's editor would show are failures), then
 *                    each run with node, as a user runs compiled TypeScript
 *                    (unlike a loader such as tsx, this also covers worker
 *                    threads that run the block's own file)
 *   js, javascript   an ES module (.mjs), or with `commonjs` a CommonJS program
 *                    (.cjs), run with node
 *   sh, bash, shell  run with bash (set -euo pipefail) in the repository root;
 *                    DOC_TEST_TMP names a fresh scratch directory. With
 *                    `server`, a slabcache server (packages/server/dist) is
 *                    started for the block on a free port (with the marker's
 *                    NAME=value words as its environment); with `outputs`,
 *                    `command  # text` lines must print `text`
 *   json             must parse
 *
 * Programs import the workspace's packages as a user's program would import
 * the installed ones: a scratch project links node_modules/@slabcache/* to
 * packages/*, so `import` and `require` go through each package's exports to
 * its built dist/ (ESM or CommonJS), one copy of each package per program, and
 * the server's worker threads run as they do when installed. Hence it needs a
 * build first: `pnpm docs:test` builds, then runs this.
 *
 * An unmarked block, a marker that marks nothing, or a run that fails is a
 * failure. Prints one `ok` / `not ok` line per run block and ends with
 * `docs: N passed, N failed` (counted by .ci/run).
 *
 *   node --import tsx scripts/doc-test.ts [FILE.md ...] [--keep]
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { parseMarkdown, withOutputChecks, withPort, type CodeBlock, type Problem } from './lib/doc-blocks.js';
import { run, tail } from './lib/run.js';
import { SMALL_SERVER_ARGS, startSlabcache } from './lib/slabcache-server.js';
import { repoRoot, workspacePackages } from './lib/workspace.js';

const BLOCK_TIMEOUT_MS = 90_000;
const TS_LANGS = new Set(['ts', 'typescript']);
const JS_LANGS = new Set(['js', 'javascript', 'mjs']);
const SHELL_LANGS = new Set(['sh', 'bash', 'shell']);

let passed = 0;
let failed = 0;

function report(name: string, problem: string | undefined): void {
  if (problem === undefined) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}\n${problem.trim().split('\n').map((l) => `    ${l}`).join('\n')}`);
  }
}

/** README.md files anywhere in the repository, and every Markdown file under docs/. */
export function docFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: repoRoot, encoding: 'utf8' });
  return tracked
    .split('\n')
    .filter((f) => f !== '' && (path.basename(f) === 'README.md' || f.startsWith('docs/')))
    .sort();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { keep: { type: 'boolean', default: false } }, allowPositionals: true });
  const files = positionals.length > 0 ? positionals.map((f) => path.relative(repoRoot, path.resolve(f))) : docFiles();
  const started = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), 'slabcache-docs-'));
  try {
    const project = scratchProject(work);
    const typescript: { block: CodeBlock; program: string }[] = [];
    let illustrations = 0;
    let index = 0;
    for (const file of files) {
      const { blocks, problems } = parseMarkdown(file, readFileSync(path.join(repoRoot, file), 'utf8'));
      for (const problem of problems) report(where(problem), problem.message);
      for (const block of blocks) {
        const name = `${where(block)} (${block.lang || 'no language'})`;
        const marker = block.marker;
        if (marker === undefined) {
          report(name, 'unmarked code block: put <!-- doc-test: run --> or <!-- doc-test: illustration --> before it (scripts/lib/doc-blocks.ts)');
          continue;
        }
        if (marker.kind === 'illustration') {
          illustrations++;
          continue;
        }
        const program = `${marker.before}${block.code}${marker.after}`;
        if (TS_LANGS.has(block.lang)) {
          typescript.push({ block, program }); // compiled together, below
          continue;
        }
        const dir = path.join(project, 'blocks', String(index++));
        mkdirSync(dir, { recursive: true });
        const problem = await runBlock(block, program, dir);
        report(`${name}${marker.options.size > 0 ? ` [${[...marker.options].join(' ')}]` : ''}`, problem);
      }
    }
    if (typescript.length > 0) await runTypeScript(project, typescript);
    console.log(`# ${illustrations} blocks marked illustration, not run`);
  } finally {
    if (values.keep) console.log(`# kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`docs: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

function where(at: Problem | CodeBlock): string {
  return `${at.file}:${at.line}`;
}

/**
 * A scratch project whose node_modules holds the workspace packages (links to
 * packages/*) and @types/node, so blocks resolve them as installed packages.
 */
function scratchProject(work: string): string {
  const project = path.join(work, 'project');
  mkdirSync(path.join(project, 'node_modules', '@slabcache'), { recursive: true });
  mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
  for (const pkg of workspacePackages()) {
    const [scope, name] = pkg.manifest.name.split('/');
    if (scope === '@slabcache' && name !== undefined) symlinkSync(pkg.path, path.join(project, 'node_modules', '@slabcache', name));
  }
  symlinkSync(path.join(repoRoot, 'node_modules', '@types', 'node'), path.join(project, 'node_modules', '@types', 'node'));
  writeFileSync(path.join(project, 'package.json'), '{ "private": true, "type": "module" }\n');
  return project;
}

async function runBlock(block: CodeBlock, program: string, dir: string): Promise<string | undefined> {
  const options = block.marker!.options;
  const lang = block.lang;
  if (options.has('outputs') && !SHELL_LANGS.has(lang)) return 'option outputs is for sh/bash blocks';
  if (options.has('server') && !SHELL_LANGS.has(lang) && !JS_LANGS.has(lang)) return 'option server is for sh/bash and js blocks';
  if (options.has('commonjs') && !JS_LANGS.has(lang)) return 'option commonjs is for js blocks';

  if (JS_LANGS.has(lang)) {
    const file = path.join(dir, options.has('commonjs') ? 'block.cjs' : 'block.mjs');
    if (!options.has('server')) return runNode(file, program);
    // A client example: it talks to a fresh server, whose port replaces 7171 in the program.
    const server = await startSlabcache([process.execPath, 'packages/server/dist/cli.js', ...SMALL_SERVER_ARGS], { cwd: repoRoot, env: { ...process.env, ...block.marker!.serverEnv } });
    try {
      return await runNode(file, withPort(program, server.port));
    } finally {
      const status = await server.stop();
      if (status !== 0) report(`${where(block)}: the test server stopped cleanly`, `exit ${status}\n${server.output().slice(-2000)}`);
    }
  }
  if (SHELL_LANGS.has(lang)) return runShell(block, program, dir);
  if (lang === 'json') {
    try {
      JSON.parse(program);
      return undefined;
    } catch (error) {
      return `not valid JSON: ${(error as Error).message}`;
    }
  }
  return `cannot run ${lang || 'a block without a language'}: mark it illustration, or give it a language this runner runs (ts, js, sh, bash, json)`;
}

async function runNode(file: string, program?: string): Promise<string | undefined> {
  if (program !== undefined) writeFileSync(file, program);
  const result = await run(process.execPath, [file], { cwd: path.dirname(file), timeoutMs: BLOCK_TIMEOUT_MS });
  return result.ok ? undefined : `exited ${result.code ?? result.signal}\n${tail(result, 30)}`;
}

async function runShell(block: CodeBlock, program: string, dir: string): Promise<string | undefined> {
  const options = block.marker!.options;
  const marker = block.marker!;
  let body = program;
  const expected: string[] = [];
  if (options.has('outputs')) {
    // Only the visible lines promise outputs; hidden lines run as they are.
    const checked = withOutputChecks(block.code);
    body = `${marker.before}${checked.script}${marker.after}`;
    expected.push(...checked.checks.map((c) => c.expected));
    if (expected.length === 0) return 'option outputs, but no line ends in "  # expected output"';
  }
  const server = options.has('server')
    ? await startSlabcache([process.execPath, 'packages/server/dist/cli.js', ...SMALL_SERVER_ARGS], { cwd: repoRoot, env: { ...process.env, ...marker.serverEnv } })
    : undefined;
  try {
    if (server) {
      body = withPort(body, server.port);
      expected.forEach((text, i) => (expected[i] = withPort(text, server.port)));
    }
    const expectDir = path.join(dir, 'expected');
    mkdirSync(expectDir);
    expected.forEach((text, i) => writeFileSync(path.join(expectDir, String(i)), text));
    const script = path.join(dir, 'block.sh');
    writeFileSync(script, `${SHELL_PRELUDE}${body}`);
    const scratch = path.join(dir, 'tmp');
    mkdirSync(scratch);
    const result = await run('bash', [script], {
      cwd: repoRoot,
      env: { ...process.env, DOC_TEST_TMP: scratch, DOC_TEST_EXPECT: expectDir },
      timeoutMs: BLOCK_TIMEOUT_MS,
    });
    if (!result.ok) return `exited ${result.code ?? result.signal}\n${tail(result, 30)}`;
    return undefined;
  } finally {
    if (server) {
      const status = await server.stop();
      if (status !== 0) report(`${where(block)}: the test server stopped cleanly`, `exit ${status}\n${server.output().slice(-2000)}`);
    }
  }
}

/** Strict mode, and the comparison that `outputs` lines call (see withOutputChecks). */
const SHELL_PRELUDE = `set -euo pipefail
__doc_expect() {
  local expected
  expected=$(cat "$DOC_TEST_EXPECT/$1")
  if [ "$2" != "$expected" ]; then
    printf 'output check %s failed\\n  expected: %s\\n  printed:  %s\\n' "$1" "$expected" "$2" >&2
    exit 1
  fi
}
`;

/**
 * Every TypeScript block, compiled by one strict tsc against the packages'
 * published types (what an editor would tell a user who pasted the block),
 * then each run with node. A block with type errors still runs (tsc emits
 * anyway), so both verdicts are reported.
 */
async function runTypeScript(project: string, blocks: { block: CodeBlock; program: string }[]): Promise<void> {
  const dir = path.join(project, 'typescript');
  mkdirSync(dir);
  blocks.forEach(({ program }, i) => writeFileSync(path.join(dir, `block${i}.ts`), program));
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: ['node'],
        strict: true,
        skipLibCheck: true,
        outDir: 'out',
        rootDir: '.',
      },
      include: ['*.ts'],
    }),
  );
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: dir, timeoutMs: 180_000 });
  const errors = new Map<number, string[]>();
  for (const line of result.stdout.split('\n')) {
    const match = /^block(\d+)\.ts\((\d+),\d+\): (.*)$/.exec(line);
    if (match) {
      const list = errors.get(Number(match[1])) ?? [];
      list.push(`program line ${match[2]}: ${match[3]}`);
      errors.set(Number(match[1]), list);
    }
  }
  if (!result.ok && errors.size === 0) report('TypeScript blocks compile', `tsc exited ${result.code}\n${tail(result)}`);
  for (const [i, { block }] of blocks.entries()) {
    report(`${where(block)} (ts) type-checks`, errors.get(i)?.join('\n'));
    const compiled = path.join(dir, 'out', `block${i}.js`);
    report(`${where(block)} (ts)`, existsSync(compiled) ? await runNode(compiled) : 'tsc emitted nothing');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  console.log(`docs: ${passed} passed, ${failed + 1} failed`);
  process.exitCode = 1;
});
