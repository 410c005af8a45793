/**
 * Report files written by more than one benchmark.
 *
 * BENCHMARKS.md holds the results of `pnpm bench` (run.ts), `bench:threads`
 * (threads.ts) and `bench:hitratio` (hitratio.ts); SNAPSHOTS.md one section
 * per key count of bench/snapshot.ts. Each benchmark owns a "part" of the
 * file, fenced by two HTML comments that do not show when the Markdown is
 * rendered:
 *
 *   <!-- part: throughput -->
 *   ## Throughput (operations/s)
 *   …
 *   <!-- end of part: throughput -->
 *
 * Writing a part replaces only the text between its own fences, or appends
 * the part when the file has none yet, so a run of one benchmark never erases
 * another's results (which a benchmark that rewrote the whole file once did:
 * the threads and hit-ratio tables went missing from BENCHMARKS.md).
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The first line of BENCHMARKS.md, written when a benchmark creates the file. */
export const BENCHMARKS_TITLE = '# Engine benchmarks';

const opening = (id: string): string => `<!-- part: ${id} -->`;
const closing = (id: string): string => `<!-- end of part: ${id} -->`;

/** Part ids go inside an HTML comment and name a benchmark's output: short words only. */
export function checkPartId(id: string): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`report part id must be lowercase words joined by '-', got ${JSON.stringify(id)}`);
}

/**
 * `document` with part `id`'s text replaced by `body` (fences included), or
 * with the part appended after the rest when it had no part `id`. Everything
 * outside that part's fences is kept byte for byte.
 */
export function withPart(document: string, id: string, body: string): string {
  checkPartId(id);
  const fenced = `${opening(id)}\n${body.trim()}\n${closing(id)}`;
  const start = document.indexOf(opening(id));
  if (start < 0) return `${document.trimEnd()}\n\n${fenced}\n`;
  const end = document.indexOf(closing(id), start);
  if (end < 0) throw new Error(`report part '${id}' has an opening fence but no '${closing(id)}': fix the file by hand`);
  return document.slice(0, start) + fenced + document.slice(end + closing(id).length);
}

/** Writes part `id` of the report `file`; a file that does not exist yet starts with `title`. */
export function writePart(file: string, id: string, body: string, title: string): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : `${title.trim()}\n`;
  writeFileSync(file, withPart(previous, id, body));
}
