/**
 * Writes a rendered report to disk: `latest.md`, the SVG charts beside it, and
 * the results it was rendered from under `results/latest.json`, so the report
 * can be rendered again later without running anything. Sections that other
 * benchmarks keep in latest.md (sections.ts) are carried over.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { LoadtestResults } from '../results.js';
import { buildCharts } from './charts.js';
import { renderMarkdown } from './markdown.js';
import { markedSections } from './sections.js';

export interface WrittenReport {
  markdown: string;
  charts: string[];
  results: string;
}

export function writeReport(results: LoadtestResults, outDir: string, options: { writeResults?: boolean } = {}): WrittenReport {
  mkdirSync(outDir, { recursive: true });
  const charts = buildCharts(results);
  for (const chart of charts) writeFileSync(join(outDir, chart.file), chart.svg);
  const markdown = join(outDir, 'latest.md');
  // Sections other benchmarks put in (sections.ts) stay: this run did not measure them.
  const kept = markedSections(markdown);
  const rendered = renderMarkdown(results, charts);
  writeFileSync(markdown, kept === '' ? rendered : `${rendered.trimEnd()}

${kept}`);
  const resultsFile = join(outDir, 'results', 'latest.json');
  if (options.writeResults !== false) {
    mkdirSync(join(outDir, 'results'), { recursive: true });
    writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
  }
  return { markdown, charts: charts.map((c) => join(outDir, c.file)), results: resultsFile };
}
