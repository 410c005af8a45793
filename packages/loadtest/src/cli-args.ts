/**
 * Parsing helpers for the command-line entry points in src/cli: counts written
 * the way people write them (`5M`, `100k`, `1_000_000`, `1e6`) and lists
 * (`1M,5M`, `get,put,mix`).
 */

const SUFFIXES: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9 };

export function parseCount(text: string, name: string): number {
  const match = /^([0-9][0-9_]*(?:\.[0-9]+)?(?:e[0-9]+)?)([kmg])?$/i.exec(text.trim());
  const value = match?.[1] === undefined ? NaN : Number(match[1].replace(/_/g, '')) * (SUFFIXES[(match[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`--${name} must be a whole number (e.g. 5000, 100k, 5M), got ${JSON.stringify(text)}`);
  return value;
}

export function parseCountList(text: string, name: string): number[] {
  return text.split(',').map((part) => parseCount(part, name));
}

export function parseChoiceList<T extends string>(text: string, allowed: readonly T[], name: string): T[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  for (const part of parts) {
    if (!(allowed as readonly string[]).includes(part)) throw new TypeError(`--${name}: ${JSON.stringify(part)} is not one of ${allowed.join(', ')}`);
  }
  return parts as T[];
}

export function optionalCount(text: string | undefined, name: string): number | undefined {
  return text === undefined ? undefined : parseCount(text, name);
}

/**
 * The command's arguments without a leading `--`: `pnpm <script> -- --flag` hands the `--` on to the
 * script, and node's parseArgs would take everything after it for positionals.
 */
export function cliArgs(): string[] {
  const args = process.argv.slice(2);
  return args[0] === '--' ? args.slice(1) : args;
}
