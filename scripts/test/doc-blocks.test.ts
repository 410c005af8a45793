import { parseMarkdown, withOutputChecks, withPort } from '../lib/doc-blocks';

const md = (...lines: string[]): string => lines.join('\n');

describe('parseMarkdown', () => {
  it('finds fenced blocks with their language, line and text, and the marker before each', () => {
    const { blocks, problems } = parseMarkdown(
      'x.md',
      md(
        '# Title',
        '',
        '<!-- doc-test: run -->',
        '',
        '```ts',
        'const a = 1;',
        '```',
        '',
        '<!-- doc-test: illustration (needs Docker) -->',
        '~~~sh',
        'docker run x',
        '~~~',
        '```',
        'unmarked',
        '```',
      ),
    );
    expect(problems).toEqual([]);
    expect(blocks.map((b) => [b.line, b.lang, b.code, b.marker?.kind])).toEqual([
      [5, 'ts', 'const a = 1;\n', 'run'],
      [10, 'sh', 'docker run x\n', 'illustration'],
      [13, '', 'unmarked\n', undefined],
    ]);
  });

  it('reads options and the hidden code before and after {{block}}', () => {
    const { blocks, problems } = parseMarkdown(
      'x.md',
      md('<!-- doc-test: run server outputs', 'setup one', 'setup two', '{{block}}', 'check', '-->', '```bash', 'curl x', '```'),
    );
    expect(problems).toEqual([]);
    const marker = blocks[0]!.marker!;
    expect([...marker.options]).toEqual(['server', 'outputs']);
    expect(marker.before).toBe('setup one\nsetup two\n');
    expect(marker.after).toBe('check\n');
  });

  it('reads NAME=value words after server as the server\'s environment', () => {
    const { blocks, problems } = parseMarkdown('x.md', md('<!-- doc-test: run server outputs AUTH_TOKEN=s3cret PROTECTED_MODE=no -->', '```sh', 'curl x', '```'));
    expect(problems).toEqual([]);
    expect([...blocks[0]!.marker!.options]).toEqual(['server', 'outputs']);
    expect(blocks[0]!.marker!.serverEnv).toEqual({ AUTH_TOKEN: 's3cret', PROTECTED_MODE: 'no' });
    const without = parseMarkdown('x.md', md('<!-- doc-test: run AUTH_TOKEN=s3cret -->', '```sh', 'curl x', '```'));
    expect(without.problems[0]!.message).toBe('AUTH_TOKEN=s3cret: a server environment needs the "server" option');
  });

  it('puts all hidden code before the block when there is no {{block}} line', () => {
    const { blocks } = parseMarkdown('x.md', md('<!-- doc-test: run', 'const x = 1;', '-->', '', '```ts', 'x;', '```'));
    expect(blocks[0]!.marker!.before).toBe('const x = 1;\n');
    expect(blocks[0]!.marker!.after).toBe('');
  });

  it('strips the indentation of a fence inside a list item', () => {
    const { blocks } = parseMarkdown('x.md', md('- item:', '', '  <!-- doc-test: illustration -->', '', '  ```text', '  line', '    deeper', '  ```'));
    expect(blocks[0]!.code).toBe('line\n  deeper\n');
    expect(blocks[0]!.marker?.kind).toBe('illustration');
  });

  it('does not take a marker from across a paragraph, and reports it as marking nothing', () => {
    const { blocks, problems } = parseMarkdown('x.md', md('<!-- doc-test: run -->', 'Some text.', '```ts', 'x', '```'));
    expect(blocks[0]!.marker).toBeUndefined();
    expect(problems).toEqual([{ file: 'x.md', line: 1, message: 'doc-test marker not followed by a code block' }]);
  });

  it('reports markers at the end of a file, twice in a row, and inside nothing', () => {
    const { problems } = parseMarkdown('x.md', md('<!-- doc-test: run -->', '<!-- doc-test: run -->', '```ts', 'x', '```', '<!-- doc-test: illustration -->'));
    expect(problems.map((p) => p.line)).toEqual([1, 6]);
  });

  it('ignores marker-like text inside a code block', () => {
    const { blocks, problems } = parseMarkdown('x.md', md('<!-- doc-test: illustration -->', '```md', '<!-- doc-test: run -->', '```'));
    expect(problems).toEqual([]);
    expect(blocks).toHaveLength(1);
  });

  it.each([
    ['<!-- doc-test: runn -->', 'must say "run" or "illustration"'],
    ['<!-- doc-test: run serverr -->', 'unknown doc-test option "serverr"'],
    ['<!-- doc-test: -->', 'must say "run" or "illustration"'],
  ])('refuses the malformed marker %s', (marker, message) => {
    const { problems } = parseMarkdown('x.md', md(marker, '```ts', 'x', '```'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain(message);
  });

  it('refuses hidden code under an illustration, two {{block}} lines, an unclosed marker or fence', () => {
    expect(parseMarkdown('x.md', md('<!-- doc-test: illustration', 'code', '-->', '```ts', 'x', '```')).problems[0]!.message).toContain('no hidden code');
    expect(parseMarkdown('x.md', md('<!-- doc-test: run', '{{block}}', '{{block}}', '-->', '```ts', 'x', '```')).problems[0]!.message).toContain('twice');
    expect(parseMarkdown('x.md', md('<!-- doc-test: run', 'code', '```ts', 'x', '```')).problems[0]!.message).toContain('not closed');
    expect(parseMarkdown('x.md', md('<!-- doc-test: run -->', '```ts', 'x')).problems[0]!.message).toBe('code block is not closed');
  });
});

describe('withOutputChecks', () => {
  it('checks the output of lines that end in "  # text", and leaves comments and continued lines alone', () => {
    const { script, checks } = withOutputChecks(
      md('# a comment', 'curl -s x        # {"a":1}', 'echo "a # b"', 'long \\', '  --flag  # not a promise', 'printf hi  #  hi  ', ''),
    );
    expect(checks).toEqual([
      { line: 2, expected: '{"a":1}' },
      { line: 6, expected: 'hi' },
    ]);
    expect(script.split('\n')).toEqual([
      '# a comment',
      '__out=$(curl -s x); __doc_expect 0 "$__out"',
      'echo "a # b"',
      'long \\',
      '  --flag  # not a promise',
      '__out=$(printf hi); __doc_expect 1 "$__out"',
      '',
    ]);
  });
});

describe('withPort', () => {
  it('points the documented default address at the test server, and nothing else', () => {
    expect(withPort('curl http://localhost:7171/get localhost:71710 127.0.0.1:7171/x example.com:7171', 18555)).toBe(
      'curl http://127.0.0.1:18555/get localhost:71710 127.0.0.1:18555/x example.com:7171',
    );
  });
});
