/**
 * The doc-test runner itself, end to end on a fixture file: it must fail an
 * unmarked block, a program that throws, a type error, and a command whose
 * output is not the one promised, and pass the blocks that are right.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');

const FIXTURE = [
  '# fixture',
  '',
  '<!-- doc-test: run -->',
  '',
  '```ts',
  "const n: number = 6 * 7; console.log(n);",
  '```',
  '',
  '<!-- doc-test: run', "import assert from 'node:assert/strict';", '{{block}}', 'assert.equal(total, 3);', '-->',
  '',
  '```ts',
  'const total = 1 + 1; // the hidden assertion after the block catches this',
  '```',
  '',
  '<!-- doc-test: run -->',
  '```ts',
  "const s: string = 42; console.log(s); // runs, but does not type-check",
  '```',
  '',
  '<!-- doc-test: run outputs -->',
  '```sh',
  'echo hello   # hello',
  'echo world   # word',
  '```',
  '',
  '<!-- doc-test: run commonjs -->',
  '```js',
  "require('node:assert').equal(typeof module.exports, 'object');",
  '```',
  '',
  '```sh',
  'echo unmarked',
  '```',
  '',
  '<!-- doc-test: illustration (never run) -->',
  '```sh',
  'exit 1',
  '```',
  '',
].join('\n');

describe('scripts/doc-test.ts', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'doc-test-fixture-'));
    writeFileSync(path.join(dir, 'fixture.md'), FIXTURE);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the right blocks and fails each kind of wrong one', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/doc-test.ts', path.join(dir, 'fixture.md')], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 180_000,
    });
    const out = result.stdout;
    // Seen once in CI: no verdict lines at all. Show what the run printed, so the next one says why.
    if (!out.includes('fixture.md:5')) {
      console.error(`doc-test printed no verdict for the fixture (status ${result.status}, signal ${result.signal}, error ${String(result.error)}):\n${out}\n${result.stderr}`);
    }
    const verdict = (line: number, suffix: string): string | undefined =>
      out
        .split('\n')
        .find((l) => new RegExp(`^(ok|not ok) - \\S*fixture\\.md:${line} \\(${suffix}$`).test(l))
        ?.split(' - ')[0];

    expect(verdict(5, 'ts\\) type-checks')).toBe('ok');
    expect(verdict(5, 'ts\\)')).toBe('ok');
    expect(verdict(15, 'ts\\)')).toBe('not ok'); // hidden assertion failed
    expect(verdict(20, 'ts\\) type-checks')).toBe('not ok');
    expect(verdict(20, 'ts\\)')).toBe('ok');
    expect(verdict(25, 'sh\\) \\[outputs\\]')).toBe('not ok');
    expect(out).toContain('expected: word');
    expect(verdict(31, 'js\\) \\[commonjs\\]')).toBe('ok');
    expect(verdict(35, 'sh\\)')).toBe('not ok');
    expect(out).toContain('unmarked code block');
    expect(out).toContain('# 1 blocks marked illustration, not run');
    expect(out).toMatch(/^docs: 5 passed, 4 failed$/m);
    expect(result.status).toBe(1);
  }, 200_000);
});
