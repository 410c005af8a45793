/**
 * The code blocks of a Markdown file and their doc-test markers (the parsing
 * half of scripts/doc-test.ts; pure, so it is unit-tested on its own).
 *
 * Every fenced code block in a README or in docs/ carries a marker: an HTML
 * comment (invisible on GitHub) right before its fence, with only blank lines
 * between them:
 *
 *   <!-- doc-test: illustration -->            shown, never run (any note may follow the word)
 *   <!-- doc-test: run -->                     run in CI, as written
 *   <!-- doc-test: run server outputs -->      with options (below)
 *
 * A `run` marker may continue over several lines. Those lines are hidden
 * code, run with the block but not shown: before it, or around it when one
 * line is exactly `{{block}}` (lines before it run first, lines after it run
 * last, for example hidden assertions about what the block printed):
 *
 *   <!-- doc-test: run
 *   const pngBytes = Buffer.from('89504e470d0a1a0a', 'hex');
 *   {{block}}
 *   assert.equal(cache.size, 1);
 *   -->
 *
 * Options of `run`:
 *   server     (sh/bash, js) a fresh slabcache server is started for the block,
 *              and `localhost:7171` / `127.0.0.1:7171` in it mean that server;
 *              words `NAME=value` after it are that server's environment
 *              (`run server AUTH_TOKEN=s3cret`), so a block can show a setting
 *   outputs    (sh/bash) a command line ending in `  # text` must print exactly
 *              `text` (trailing whitespace aside); other comments stay comments
 *   commonjs   (js) the block is a CommonJS program (.cjs), not an ES module
 */

export type MarkerKind = 'run' | 'illustration';
export const RUN_OPTIONS = ['server', 'outputs', 'commonjs'] as const;
export type RunOption = (typeof RUN_OPTIONS)[number];
export const BLOCK_PLACEHOLDER = '{{block}}';

export interface Marker {
  readonly kind: MarkerKind;
  /** 1-based line of the comment's first line. */
  readonly line: number;
  readonly options: ReadonlySet<RunOption>;
  /** Hidden code run before the block (run markers). */
  readonly before: string;
  /** Hidden code run after the block (run markers). */
  readonly after: string;
  /** Environment of the `server` option's server (`NAME=value` words). */
  readonly serverEnv: Readonly<Record<string, string>>;
}

export interface CodeBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** First word of the info string, lower case ('' without one). */
  readonly lang: string;
  /** The block's text, without the fence's indentation; ends with a newline unless empty. */
  readonly code: string;
  readonly marker: Marker | undefined;
}

export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface ParsedMarkdown {
  readonly blocks: CodeBlock[];
  readonly problems: Problem[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const MARKER_START = /^\s*<!--\s*doc-test:(.*)$/;

export function parseMarkdown(file: string, text: string): ParsedMarkdown {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  const problems: Problem[] = [];
  let pending: Marker | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const markerStart = MARKER_START.exec(line);
    if (markerStart) {
      if (pending) problems.push({ file, line: pending.line, message: 'doc-test marker not followed by a code block' });
      const parsed = parseMarker(file, lines, i, markerStart[1]!);
      if ('message' in parsed) {
        problems.push(parsed);
        pending = undefined;
        i = parsed.endIndex;
      } else {
        pending = parsed.marker;
        i = parsed.endIndex;
      }
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const indent = fence[1]!.length;
      const open = fence[2]!;
      const close = new RegExp(`^\\s*${open[0] === '`' ? '`' : '~'}{${open.length},}\\s*$`);
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !close.test(lines[j]!)) body.push(stripIndent(lines[j]!, indent)), j++;
      if (j >= lines.length) {
        problems.push({ file, line: i + 1, message: 'code block is not closed' });
        return { blocks, problems };
      }
      blocks.push({
        file,
        line: i + 1,
        lang: fence[3]!.toLowerCase(),
        code: body.length === 0 ? '' : `${body.join('\n')}\n`,
        marker: pending,
      });
      pending = undefined;
      i = j;
      continue;
    }
    if (pending && line.trim() !== '') {
      problems.push({ file, line: pending.line, message: 'doc-test marker not followed by a code block' });
      pending = undefined;
    }
  }
  if (pending) problems.push({ file, line: pending.line, message: 'doc-test marker not followed by a code block' });
  return { blocks, problems };
}

/** `NAME=value` in a run marker: an environment variable of the `server` option's server. */
const SERVER_ENV_WORD = /^[A-Z][A-Z0-9_]*=\S*$/;

type MarkerParse = { marker: Marker; endIndex: number } | (Problem & { endIndex: number });

function parseMarker(file: string, lines: string[], start: number, rest: string): MarkerParse {
  const line = start + 1;
  const singleLine = /^(.*?)-->\s*$/.exec(rest);
  const head = (singleLine ? singleLine[1]! : rest).trim();
  let endIndex = start;
  const hidden: string[] = [];
  if (!singleLine) {
    endIndex = start + 1;
    while (endIndex < lines.length && lines[endIndex]!.trim() !== '-->') hidden.push(lines[endIndex]!), endIndex++;
    if (endIndex >= lines.length) return { file, line, message: 'doc-test marker comment is not closed (a line with only --> ends it)', endIndex };
  }
  const [kind, ...words] = head.split(/\s+/).filter((w) => w !== '');
  if (kind === 'illustration') {
    if (hidden.length > 0) return { file, line, message: 'an illustration marker has no hidden code', endIndex };
    return { marker: { kind, line, options: new Set(), before: '', after: '', serverEnv: {} }, endIndex };
  }
  if (kind !== 'run') {
    return { file, line, message: `doc-test marker must say "run" or "illustration", got ${JSON.stringify(head)}`, endIndex };
  }
  const envWords = words.filter((w) => SERVER_ENV_WORD.test(w));
  if (envWords.length > 0 && !words.includes('server')) {
    return { file, line, message: `${envWords.join(' ')}: a server environment needs the "server" option`, endIndex };
  }
  const unknown = words.filter((w) => !SERVER_ENV_WORD.test(w) && !(RUN_OPTIONS as readonly string[]).includes(w));
  if (unknown.length > 0) {
    return { file, line, message: `unknown doc-test option ${unknown.map((w) => JSON.stringify(w)).join(', ')} (known: ${RUN_OPTIONS.join(', ')})`, endIndex };
  }
  const at = hidden.findIndex((l) => l.trim() === BLOCK_PLACEHOLDER);
  if (at !== -1 && hidden.findIndex((l, k) => k > at && l.trim() === BLOCK_PLACEHOLDER) !== -1) {
    return { file, line, message: `${BLOCK_PLACEHOLDER} appears twice in the hidden code`, endIndex };
  }
  const before = at === -1 ? hidden : hidden.slice(0, at);
  const after = at === -1 ? [] : hidden.slice(at + 1);
  return {
    marker: {
      kind,
      line,
      options: new Set(words.filter((w) => !SERVER_ENV_WORD.test(w)) as RunOption[]),
      before: joinLines(before),
      after: joinLines(after),
      serverEnv: Object.fromEntries(envWords.map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)])),
    },
    endIndex,
  };
}

function joinLines(lines: string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Removes up to `indent` leading spaces (a fence inside a list item is indented with its content). */
function stripIndent(line: string, indent: number): string {
  let n = 0;
  while (n < indent && line[n] === ' ') n++;
  return line.slice(n);
}

/* ---- what a run marker means for a shell block ---- */

/** `localhost:7171` and `127.0.0.1:7171` (the documented default port) become the test server's address. */
export function withPort(script: string, port: number): string {
  return script.replace(/\b(?:localhost|127\.0\.0\.1):7171\b/g, `127.0.0.1:${port}`);
}

export interface OutputCheck {
  /** 1-based line within the block. */
  readonly line: number;
  readonly expected: string;
}

/**
 * For `outputs`: turns each `command  # expected` line into a call that runs
 * the command and compares what it printed with the text after `#`
 * (`__doc_expect INDEX "$__out"`, defined by the runner). A line that
 * continues another (the previous one ends in `\`) or that is only a comment
 * is left alone.
 */
export function withOutputChecks(code: string): { script: string; checks: OutputCheck[] } {
  const checks: OutputCheck[] = [];
  const lines = code.split('\n');
  const out = lines.map((line, i) => {
    const continued = i > 0 && /\\\s*$/.test(lines[i - 1]!);
    const match = /^(\s*[^#\s].*?\S)\s{2,}#\s?(.*)$/.exec(line);
    if (continued || !match) return line;
    checks.push({ line: i + 1, expected: match[2]!.trim() });
    return `__out=$(${match[1]!.trim()}); __doc_expect ${checks.length - 1} "$__out"`;
  });
  return { script: out.join('\n'), checks };
}
