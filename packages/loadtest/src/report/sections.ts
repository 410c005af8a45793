/**
 * Sections that other benchmarks keep in reports/latest.md (the batch
 * benchmark's, the router cost's), each between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->`. A benchmark puts its section in, replacing its earlier
 * one; re-rendering the report (render.ts) carries every such section over, so
 * a new load report does not drop a measurement it did not make.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const SECTION = /<!-- ([a-z0-9-]+):start -->\n[\s\S]*?<!-- \1:end -->\n?/g;

/** Puts `body` under `## title` into `file` as section `name`, in place of an earlier one, else at the end. */
export function putSection(file: string, name: string, title: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n## ${title}\n\n${body}${end}\n`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = current.indexOf(start);
  const until = current.indexOf(end);
  const next =
    at >= 0 && until > at ? current.slice(0, at) + section + current.slice(until + end.length + 1) : `${current.trimEnd()}\n\n${section}`;
  writeFileSync(file, next);
}

/** The marked sections of `file`, in order, to be kept when it is written anew ('' if none or no file). */
export function markedSections(file: string): string {
  if (!existsSync(file)) return '';
  const found = readFileSync(file, 'utf8').match(SECTION) ?? [];
  return found.map((section) => (section.endsWith('\n') ? section : `${section}\n`)).join('\n');
}
