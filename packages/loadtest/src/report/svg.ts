/**
 * A grouped bar chart written as SVG by hand: no chart library, no browser, so
 * the report renders anywhere Node runs and the files diff cleanly in git.
 *
 * Layout: one group of bars per category (e.g. "GET @ 1M keys"), one bar per
 * series (e.g. each server) in a fixed order and colour, a linear y axis from
 * zero with "nice" tick steps, the value printed above each bar, and a legend.
 * A series without a value in a group leaves a gap rather than a zero bar.
 */

export interface BarGroup {
  label: string;
  values: Partial<Record<string, number>>;
}

export interface BarChart {
  title: string;
  /** Axis label, e.g. "requests/s". */
  unit: string;
  series: readonly { key: string; label: string; color: string }[];
  groups: readonly BarGroup[];
  /** How a value is printed above its bar and on the axis. */
  format?: (value: number) => string;
}

const BAR_WIDTH = 26;
const BAR_GAP = 4;
const GROUP_GAP = 28;
const MARGIN = { top: 58, right: 20, bottom: 56, left: 72 };
const PLOT_HEIGHT = 260;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A tick step of 1, 2 or 5 × 10^k giving about `target` ticks up to `max`. */
export function niceStep(max: number, target = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const factor = residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1;
  return factor * magnitude;
}

export function compactNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

/** At most three significant digits, without trailing decimal zeros ("1.50" → "1.5", "150" stays). */
function trim(value: number): string {
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** Rough width of a text in the 11 px sans-serif used here (no font metrics without a browser). */
function textWidth(text: string, fontSize = 11): number {
  return text.length * fontSize * 0.58;
}

export function renderBarChart(chart: BarChart): string {
  const format = chart.format ?? compactNumber;
  const seriesCount = chart.series.length;
  const groupWidth = seriesCount * BAR_WIDTH + (seriesCount - 1) * BAR_GAP;
  const legendWidths = chart.series.map((s) => 15 + textWidth(s.label) + 14);
  const legendWidth = legendWidths.reduce((a, b) => a + b, 0);
  const plotWidth = Math.max(
    240,
    chart.groups.length * (groupWidth + GROUP_GAP) + GROUP_GAP,
    legendWidth,
    textWidth(chart.title, 15) - MARGIN.left / 2,
  );
  const width = Math.ceil(MARGIN.left + plotWidth + MARGIN.right);
  const height = MARGIN.top + PLOT_HEIGHT + MARGIN.bottom;

  const allValues = chart.groups.flatMap((g) => Object.values(g.values).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  const dataMax = allValues.length ? Math.max(...allValues) : 1;
  const step = niceStep(dataMax);
  // 8% headroom so the value printed above the tallest bar stays inside the plot.
  const axisMax = Math.max(step, Math.ceil((dataMax * 1.08) / step) * step);
  const y = (value: number) => MARGIN.top + PLOT_HEIGHT - (value / axisMax) * PLOT_HEIGHT;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left / 2}" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );

  // Legend, one entry per series, under the title.
  let legendX = MARGIN.left;
  chart.series.forEach((s, i) => {
    out.push(
      `<rect x="${legendX.toFixed(0)}" y="33" width="11" height="11" fill="${s.color}"/>`,
      `<text x="${(legendX + 15).toFixed(0)}" y="43">${escapeXml(s.label)}</text>`,
    );
    legendX += legendWidths[i] as number;
  });

  // Y axis: gridlines and tick labels.
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    const ty = y(tick).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${ty}" y2="${ty}" stroke="#e3e3e3"/>`,
      `<text x="${MARGIN.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${escapeXml(format(tick))}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.unit)}</text>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_HEIGHT}" stroke="#555"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${MARGIN.top + PLOT_HEIGHT}" y2="${MARGIN.top + PLOT_HEIGHT}" stroke="#555"/>`,
  );

  // Bars, group by group, centred when the legend or title made the plot wider than the groups.
  const groupsWidth = chart.groups.length * (groupWidth + GROUP_GAP) + GROUP_GAP;
  const groupsOffset = Math.max(0, (plotWidth - groupsWidth) / 2);
  chart.groups.forEach((group, gi) => {
    const gx = MARGIN.left + groupsOffset + GROUP_GAP + gi * (groupWidth + GROUP_GAP);
    chart.series.forEach((s, si) => {
      const value = group.values[s.key];
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      const bx = gx + si * (BAR_WIDTH + BAR_GAP);
      const top = y(value);
      out.push(
        `<rect x="${bx}" y="${top.toFixed(1)}" width="${BAR_WIDTH}" height="${(MARGIN.top + PLOT_HEIGHT - top).toFixed(1)}" fill="${s.color}"><title>${escapeXml(`${s.label}, ${group.label}: ${format(value)} ${chart.unit}`)}</title></rect>`,
        `<text x="${bx + BAR_WIDTH / 2}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="9">${escapeXml(format(value))}</text>`,
      );
    });
    // A label may hold "\n": each line becomes a tspan under the previous one.
    const lines = group.label.split('\n');
    const cx = gx + groupWidth / 2;
    out.push(
      `<text x="${cx}" y="${MARGIN.top + PLOT_HEIGHT + 16}" text-anchor="middle">` +
        lines.map((line, i) => `<tspan x="${cx}" dy="${i === 0 ? 0 : 13}">${escapeXml(line)}</tspan>`).join('') +
        '</text>',
    );
  });

  out.push('</svg>');
  return out.join('\n') + '\n';
}
