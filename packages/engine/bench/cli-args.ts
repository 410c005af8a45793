/**
 * The command's arguments without a leading `--`: `pnpm <script> -- --flag` hands the `--` on to the
 * script, and node's parseArgs would take everything after it for positionals.
 */
export function cliArgs(): string[] {
  const args = process.argv.slice(2);
  return args[0] === '--' ? args.slice(1) : args;
}
