/**
 * The hand-written SVG bar chart: tick steps, number formatting, one bar per
 * value (gaps for missing values), escaped text, and a well-formed document.
 */

import { compactNumber, escapeXml, niceStep, renderBarChart } from '../src/report/svg.js';

test('niceStep picks 1, 2 or 5 × 10^k', () => {
  expect(niceStep(100)).toBe(20);
  expect(niceStep(9_000)).toBe(2_000);
  expect(niceStep(147_000)).toBe(50_000);
  expect(niceStep(0.8)).toBe(0.2);
  expect(niceStep(0)).toBe(1);
});

test('compactNumber keeps three significant digits and its unit', () => {
  expect(compactNumber(150_000)).toBe('150k');
  expect(compactNumber(100_000)).toBe('100k');
  expect(compactNumber(10_500)).toBe('10.5k');
  expect(compactNumber(9_278)).toBe('9.28k');
  expect(compactNumber(5_000_000)).toBe('5M');
  expect(compactNumber(0)).toBe('0');
  expect(compactNumber(1.5)).toBe('1.5');
});

test('escapeXml escapes markup characters', () => {
  expect(escapeXml('a < b & "c" > d')).toBe('a &lt; b &amp; &quot;c&quot; &gt; d');
});

test('renderBarChart draws one bar per present value and labels every group', () => {
  const svg = renderBarChart({
    title: 'Throughput <test>',
    unit: 'requests/s',
    series: [
      { key: 'ours', label: 'ours', color: '#111111' },
      { key: 'baseline', label: 'baseline & co', color: '#222222' },
    ],
    groups: [
      { label: 'GET\n1M keys', values: { ours: 90_000, baseline: 10_000 } },
      { label: 'PUT', values: { ours: 80_000 } },
    ],
  });
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trim().endsWith('</svg>')).toBe(true);
  const bars = svg.match(/<rect x="[\d.]+" y="[\d.]+" width="26"/g) ?? [];
  expect(bars).toHaveLength(3);
  expect(svg).toContain('#111111');
  expect(svg).toContain('Throughput &lt;test&gt;');
  expect(svg).toContain('baseline &amp; co');
  expect(svg).toContain('<tspan x="');
  expect(svg).toContain('>1M keys</tspan>');
  expect(svg).toContain('>90k</text>');
  // Every opened text element is closed: a cheap well-formedness check.
  expect((svg.match(/<text/g) ?? []).length).toBe((svg.match(/<\/text>/g) ?? []).length);
  expect(svg).not.toContain('NaN');
});

test('the tallest bar fits under the top of the axis', () => {
  const svg = renderBarChart({
    title: 't',
    unit: 'u',
    series: [{ key: 'a', label: 'a', color: '#000' }],
    groups: [{ label: 'g', values: { a: 100 } }],
  });
  const bar = /<rect x="[\d.]+" y="([\d.]+)" width="26"/.exec(svg);
  expect(Number(bar?.[1])).toBeGreaterThan(58); // MARGIN.top: the plot starts there
});
