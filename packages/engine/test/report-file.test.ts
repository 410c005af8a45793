/**
 * Benchmark report parts (bench/report-file.ts): each benchmark rewrites its
 * own part of a shared report file and nothing else.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { withPart, writePart } from '../bench/report-file';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'report-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writePart', () => {
  test('a new file starts with the title, then the fenced part', () => {
    const file = path.join(dir, 'BENCH.md');
    writePart(file, 'engine', '## Throughput\n\n| a | b |\n', '# Title');
    expect(readFileSync(file, 'utf8')).toBe('# Title\n\n<!-- part: engine -->\n## Throughput\n\n| a | b |\n<!-- end of part: engine -->\n');
  });

  test("rewriting one benchmark's part keeps every other part and the text around them byte for byte", () => {
    const file = path.join(dir, 'BENCH.md');
    writePart(file, 'engine', '## Throughput\n\nold engine numbers', '# Title');
    writePart(file, 'threads', '## Threads\n\nthreads numbers', '# Title');
    writePart(file, 'hit-ratio', '## Hit ratio\n\nhit ratios', '# Title');
    // A note written by hand between parts.
    writeFileSync(file, readFileSync(file, 'utf8').replace('<!-- part: threads -->', 'A note by hand.\n\n<!-- part: threads -->'));
    const before = readFileSync(file, 'utf8');

    writePart(file, 'engine', '## Throughput\n\nnew engine numbers, longer than before', '# Title');
    const after = readFileSync(file, 'utf8');

    expect(after).toContain('new engine numbers, longer than before');
    expect(after).not.toContain('old engine numbers');
    const tail = (text: string): string => text.slice(text.indexOf('<!-- end of part: engine -->'));
    expect(tail(after)).toBe(tail(before));
    expect(after.indexOf('A note by hand.')).toBeLessThan(after.indexOf('## Threads'));
    expect(after.match(/<!-- part: /g)).toHaveLength(3);
  });

  test('writing the same part twice gives the same file (no duplicate sections)', () => {
    const file = path.join(dir, 'SNAP.md');
    writePart(file, 'keys-1000000', '## 1M', '# Snapshots');
    writePart(file, 'keys-5000000', '## 5M', '# Snapshots');
    const once = readFileSync(file, 'utf8');
    writePart(file, 'keys-5000000', '## 5M', '# Snapshots');
    expect(readFileSync(file, 'utf8')).toBe(once);
  });
});

describe('withPart refuses what it cannot place safely', () => {
  test('an opening fence without its end is an error, not a truncated file', () => {
    const broken = '# T\n\n<!-- part: engine -->\n## Throughput\n\n<!-- part: threads -->\nx\n<!-- end of part: threads -->\n';
    expect(() => withPart(broken, 'engine', 'new')).toThrow("report part 'engine' has an opening fence but no '<!-- end of part: engine -->'");
  });

  test('a part id that could break out of the HTML comment is refused', () => {
    expect(() => withPart('', 'a -->', 'x')).toThrow("report part id must be lowercase words joined by '-'");
    expect(() => withPart('', '', 'x')).toThrow('report part id');
  });
});
