/**
 * scripts/lib/run.ts, the CI scripts' way to run a command: its verdict is the
 * command's exit code, whatever the command does with its stdin.
 *
 * Stop 33's CI run died here: `pnpm pack` exited before its (empty) stdin was
 * closed, the close failed with EPIPE, and the unhandled stream error killed
 * the whole pack test.
 */

import { run } from '../lib/run';

// Far more than a pipe holds (64 KiB by default), so a command that reads
// none of it makes the write fail with EPIPE every time, not by timing.
const MORE_THAN_A_PIPE_HOLDS = 'x'.repeat(8 * 1024 * 1024);

describe('run', () => {
  it('judges a command that exits without reading its input by its exit code, and says the input was cut short', async () => {
    const result = await run('true', [], { input: MORE_THAN_A_PIPE_HOLDS });
    expect(result.code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.stderr).toContain('(stdin not fully read: EPIPE)');
  });

  it('still reports the failure of a command that exits non-zero without reading its input', async () => {
    const result = await run('false', [], { input: MORE_THAN_A_PIPE_HOLDS });
    expect(result.code).toBe(1);
    expect(result.ok).toBe(false);
  });

  it('writes the input to a command that reads it', async () => {
    const result = await run('cat', [], { input: 'hello\n' });
    expect(result).toMatchObject({ ok: true, stdout: 'hello\n', timedOut: false });
    expect(result.stderr).toBe('');
  });

  it('gives a command without input an empty stdin that ends at once', async () => {
    // cat reads to end of input: with no input it must see the end, not wait for it.
    const result = await run('cat', [], { timeoutMs: 60_000 });
    expect(result).toMatchObject({ ok: true, stdout: '', stderr: '', timedOut: false });
  });
});
