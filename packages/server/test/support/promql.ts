/**
 * The metric names a PromQL expression reads, for checking a Grafana board
 * against what a server exports. Not a PromQL parser: it removes what cannot
 * hold a metric name, then keeps the identifiers that are not functions or
 * keywords.
 *
 *   strings "…" '…'            -> ""    (label values, regexes)
 *   {…}                        -> {}    (label matchers; $variables inside)
 *   […]                        -> ''    (ranges, subqueries, $__rate_interval)
 *   by|without|on|ignoring|group_left|group_right (…)  -> ''  (label names)
 *   identifier followed by (   -> a function: skipped
 *   and|or|unless|bool|offset|… -> keywords: skipped
 *   identifier glued to a digit, dot or $ (1e3, 5m, $var)  -> not a name
 */

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'start', 'end', 'atan2']);

export function metricNamesIn(expr: string): string[] {
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  rest = rest.replace(/\{[^}]*\}/g, '{}');
  rest = rest.replace(/\[[^\]]*\]/g, '');
  rest = rest.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const match of rest.matchAll(/(?<![\w.$:])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const after = rest.slice((match.index ?? 0) + name.length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Names of the samples in a Prometheus text exposition (`_bucket`, `_sum`, `_count` included). */
export function sampleNamesIn(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name !== undefined) names.add(name);
  }
  return names;
}
