/**
 * A line chart over time, written as SVG by hand (like ../src/report/svg.ts
 * writes bar charts): the soak report plots RSS and event-loop delay per
 * second, with the warm-up shaded so a reader sees which part the flatness
 * check judged.
 */

import { compactNumber, escapeXml, niceStep } from '../src/report/svg.js';

export interface LineSeries {
  readonly label: string;
  readonly color: string;
  /** [seconds since start, value] pairs, in time order. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChart {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly LineSeries[];
  /** A shaded span of the x axis with its label (the warm-up). */
  readonly shade?: { readonly fromSeconds: number; readonly toSeconds: number; readonly label: string };
}

const WIDTH = 860;
const HEIGHT = 340;
const MARGIN = { top: 56, right: 24, bottom: 44, left: 72 };

export function renderLineChart(chart: LineChart): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const all = chart.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map(([x]) => x));
  const yData = Math.max(0, ...all.map(([, y]) => y).filter(Number.isFinite));
  const yStep = niceStep(yData || 1);
  const yMax = Math.max(yStep, Math.ceil((yData * 1.05) / yStep) * yStep);
  const xStep = niceStep(xMax, 8);
  const x = (seconds: number): number => MARGIN.left + (seconds / xMax) * plotWidth;
  const y = (value: number): number => MARGIN.top + plotHeight - (Math.min(value, yMax) / yMax) * plotHeight;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left / 2}" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  if (chart.shade) {
    const from = x(chart.shade.fromSeconds);
    const to = x(Math.min(chart.shade.toSeconds, xMax));
    out.push(
      `<rect x="${from.toFixed(1)}" y="${MARGIN.top}" width="${Math.max(0, to - from).toFixed(1)}" height="${plotHeight}" fill="#f1f1f1"/>`,
      `<text x="${((from + to) / 2).toFixed(1)}" y="${MARGIN.top + 14}" text-anchor="middle" fill="#777">${escapeXml(chart.shade.label)}</text>`,
    );
  }
  for (let tick = 0; tick <= yMax + yStep / 2; tick += yStep) {
    const ty = y(tick).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${ty}" y2="${ty}" stroke="#e3e3e3"/>`,
      `<text x="${MARGIN.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${escapeXml(compactNumber(tick))}</text>`,
    );
  }
  for (let tick = 0; tick <= xMax; tick += xStep) {
    const tx = x(tick).toFixed(1);
    out.push(
      `<line x1="${tx}" x2="${tx}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight + 4}" stroke="#555"/>`,
      `<text x="${tx}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle">${escapeXml(formatSeconds(tick))}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.unit)}</text>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 6}" text-anchor="middle">time since start</text>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#555"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}" stroke="#555"/>`,
  );
  let legendX = MARGIN.left;
  for (const s of chart.series) {
    out.push(
      `<rect x="${legendX}" y="33" width="11" height="11" fill="${s.color}"/>`,
      `<text x="${legendX + 15}" y="43">${escapeXml(s.label)}</text>`,
    );
    legendX += 15 + s.label.length * 6.4 + 14;
    const path = s.points
      .filter(([, v]) => Number.isFinite(v))
      .map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join(' ');
    if (path !== '') out.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}
